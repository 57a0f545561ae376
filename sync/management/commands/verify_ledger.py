import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.actors import Actor
from inventory_site.maintenance import ledger_verify, restore_read_back_first


class Command(BaseCommand):
    help = (
        "Check the ledger (every snapshot equals the sum of its events) and the outbox (no "
        "row without a registration, none in progress without a push holding its store); "
        "exit 1 naming what is wrong. After restoring a backup, with the workers stopped, "
        "--after-restore first makes every store's first push read its stock back before "
        "writing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--after-restore",
            action="store_true",
            help="Prepare a restored database: every registration reads back before writing.",
        )
        parser.add_argument(
            "--hold-minutes",
            type=int,
            default=10,
            help="With --after-restore: pushes wait this long, so each store's first poll "
            "records the orders placed since the backup first (default 10).",
        )

    def handle(self, *args: Any, after_restore: bool, hold_minutes: int, **options: Any) -> None:
        if after_restore:
            if hold_minutes < 0:
                raise CommandError("--hold-minutes must be 0 or more.")
            prepared = restore_read_back_first(
                actor=Actor.cli("verify_ledger"), hold=dt.timedelta(minutes=hold_minutes)
            )
            for store_id, rows in prepared.read_back.items():
                self.stdout.write(f"after restore: {store_id}: {rows} SKU(s) read back first")
            self.stdout.write(
                f"after restore: {prepared.released} row(s) left in progress by the backup "
                f"released, {prepared.retried_failed} failed row(s) due again; the first "
                f"pushes go at {prepared.due_at:%Y-%m-%d %H:%M:%S %Z}"
            )
        verdict = ledger_verify()
        for drift in verdict.drifts:
            shown = "missing" if drift.snapshot is None else drift.snapshot
            self.stdout.write(
                f"DRIFT {drift.sku_id}: snapshot {shown}, sum of events {drift.ledger}"
            )
        for problem in verdict.outbox_problems:
            self.stdout.write(
                f"OUTBOX {problem.store_id} / {problem.sku_id} ({problem.status}): {problem.reason}"
            )
        self.stdout.write(
            f"{verdict.skus_checked} SKU(s) checked, {len(verdict.drifts)} drift; "
            f"{verdict.outbox_rows} outbox row(s), {len(verdict.outbox_problems)} inconsistent"
        )
        if verdict.drifts:
            raise CommandError(
                f"{len(verdict.drifts)} snapshot(s) differ from the sum of their events "
                f"({', '.join(d.sku_id for d in verdict.drifts[:20])}): "
                "see `rebuild_snapshots --check`, then `--fix`."
            )
        if verdict.outbox_problems:
            raise CommandError(
                f"{len(verdict.outbox_problems)} outbox row(s) are inconsistent (above)."
            )
        self.stdout.write(self.style.SUCCESS("The ledger and the outbox are consistent."))
