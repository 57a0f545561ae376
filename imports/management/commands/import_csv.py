from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.actors import Actor
from imports.services import (
    Action,
    ImportRefused,
    import_cancel,
    import_confirm,
    import_preview,
    upload_create,
)
from inventory_site.errors import InventoryError


class Command(BaseCommand):
    help = "Preview a stock file; apply it only with --confirm."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--store", required=True)
        parser.add_argument("--mode", default="reset_stock", help="metadata_only | reset_stock")
        parser.add_argument(
            "--zero-handling", default="ignore", help="ignore | set_zero | zero_negative"
        )
        parser.add_argument("--confirm", action="store_true", help="Apply the file.")
        parser.add_argument(
            "--skip-errors", action="store_true", help="With --confirm: leave out rows with errors."
        )
        parser.add_argument("--rows", type=int, default=50, help="Rows of the preview to print.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        actor = Actor.cli()
        try:
            upload = upload_create(
                filename=path.name,
                content=path.read_bytes(),
                store_id=options["store"],
                import_mode=options["mode"],
                zero_handling=options["zero_handling"],
                actor=actor,
            )
            preview = import_preview(upload)
        except InventoryError as exc:
            raise CommandError(exc.message) from None
        shown = sorted(preview.rows, key=lambda r: (r.action != Action.ERROR, r.line))
        for row in shown[: options["rows"]]:
            change = ""
            if row.stock_to is not None:
                change = f": {row.stock_from} -> {row.stock_to}"
            if row.name_to:
                change += f" name -> {row.name_to!r}"
            self.stdout.write(
                f"line {row.line}: {row.sku_id or row.raw_sku or '-'} {row.action}{change}"
                + (f" ({row.message})" if row.message else "")
            )
        totals = ", ".join(f"{k} {v}" for k, v in sorted(preview.totals.items()))
        self.stdout.write(f"{preview.kind} file, {totals}")
        if not options["confirm"]:
            import_cancel(file_id=upload.file_id, actor=actor)
            self.stdout.write("Preview only: nothing changed (add --confirm to apply).")
            return
        try:
            import_confirm(
                file_id=upload.file_id,
                token=upload.token,
                actor=actor,
                skip_errors=options["skip_errors"],
            )
        except ImportRefused as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS("Applied."))
