from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.actors import Actor
from events.selectors import snapshot_drift
from events.services import snapshot_rebuild


class Command(BaseCommand):
    help = "Compare every snapshot with the sum of its events (--check) or repair drift (--fix)."

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--check", action="store_true", help="Report drift; exit 1 if any.")
        mode.add_argument("--fix", action="store_true", help="Set drifted snapshots to the ledger.")
        parser.add_argument("--sku", action="append", dest="sku_ids", help="Only this SKU.")
        parser.add_argument("--user", default="manage.py", help="Name to audit a fix under.")

    def handle(self, *args: Any, check: bool, fix: bool, **options: Any) -> None:
        sku_ids = [s.lower() for s in options["sku_ids"]] if options["sku_ids"] else None
        if fix:
            repaired = snapshot_rebuild(actor=Actor.cli(options["user"]), sku_ids=sku_ids)
            for drift in repaired:
                self.stdout.write(f"fixed {drift.sku_id}: {drift.snapshot} -> {drift.ledger}")
            self.stdout.write(self.style.SUCCESS(f"{len(repaired)} snapshot(s) repaired."))
            return
        drifts = snapshot_drift(sku_ids=sku_ids)
        for drift in drifts:
            shown = "missing" if drift.snapshot is None else drift.snapshot
            self.stdout.write(f"drift {drift.sku_id}: snapshot {shown}, ledger {drift.ledger}")
        if drifts:
            raise CommandError(f"{len(drifts)} snapshot(s) differ from the ledger; run --fix.")
        self.stdout.write(self.style.SUCCESS("Every snapshot equals the sum of its events."))
