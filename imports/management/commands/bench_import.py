"""Import speed: a 100,000-row file through preview and confirm, peak memory, and
django-import-export's default row-by-row import of the same rows for comparison.

Runs in a scratch database it creates and drops.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import tablib
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from events.actors import Actor
from events.models import EventType, InventoryEvent, InventorySnapshot, PendingPush
from events.selectors import snapshot_drift
from imports.resources import SkuStockResource
from imports.services import import_confirm, import_preview, upload_create
from inventory_site.benchmarks import scratch_database
from skus.models import Sku
from stores.models import StoreSku
from stores.services import store_create


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    # Linux: writing 5 resets the peak resident set size (VmHWM) to the current one.
    Path("/proc/self/clear_refs").write_text("5")


class Command(BaseCommand):
    help = "Time preview and confirm of an N-row stock file, against the row-by-row import."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument(
            "--compare-rows",
            type=int,
            default=None,
            help="Rows for the row-by-row import (default: all of them).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n = options["rows"]
        compare = options["compare_rows"] or n
        if n < 1 or compare < 1:
            raise CommandError("--rows and --compare-rows must be at least 1.")
        self.stdout.write(f"database: {connection.vendor}, {n:,} rows")
        with scratch_database("bench_import"):
            self._run(n, min(compare, n))

    def _run(self, n: int, compare: int) -> None:
        actor = Actor(username="bench")
        store = store_create(store_id="bench", store_name="Bench", actor=Actor.system("bench"))
        Sku.objects.bulk_create(
            (
                Sku(sku_id=f"s{i:06d}", original_sku=f"S{i:06d}", sku_name=f"Item {i}")
                for i in range(n)
            ),
            batch_size=5000,
        )
        InventorySnapshot.objects.bulk_create(
            (InventorySnapshot(sku_id=f"s{i:06d}", internal_available=0) for i in range(n)),
            batch_size=5000,
        )
        # Each SKU is sold in the store, so every stock change also makes a push due.
        StoreSku.objects.bulk_create(
            (StoreSku(store=store, sku_id=f"s{i:06d}") for i in range(n)),
            batch_size=5000,
        )
        # Every row renames its SKU and changes its stock: the most work a row can ask for.
        lines = ["sku_id,sku_name,quantity"] + [
            f"S{i:06d},Item {i} v2,{i % 500 + 11}" for i in range(n)
        ]
        content = ("\r\n".join(lines) + "\r\n").encode()
        self.stdout.write(f"file: {len(content) / 1e6:.1f} MB")

        _reset_peak()
        base = _rss_mb("VmRSS")
        started = time.perf_counter()
        upload = upload_create(
            filename="bench.csv",
            content=content,
            store_id=store.store_id,
            import_mode="reset_stock",
            zero_handling="ignore",
            actor=actor,
        )
        preview = import_preview(upload)
        preview_s = time.perf_counter() - started
        if preview.errors or preview.totals["stock"] != n:
            raise CommandError(f"unexpected preview: {dict(preview.totals)}")
        del preview
        started = time.perf_counter()
        import_confirm(file_id=upload.file_id, token=upload.token, actor=actor)
        confirm_s = time.perf_counter() - started
        peak = _rss_mb("VmHWM")
        events = InventoryEvent.objects.filter(event_type=EventType.IMPORT).count()
        pushes = PendingPush.objects.count()
        if events != n or pushes != n or snapshot_drift():
            raise CommandError(f"{events} IMPORT events, {pushes} pushes due for {n} rows")
        self.stdout.write(
            f"ours: upload + preview {preview_s:.1f} s, confirm {confirm_s:.1f} s "
            f"(re-validates, then applies), peak RSS {peak:.0f} MB "
            f"(process was {base:.0f} MB before)"
        )

        # The same kind of rows through django-import-export's default import.
        dataset = tablib.Dataset(headers=["sku_id", "sku_name", "quantity"])
        for i in range(compare):
            dataset.append([f"S{i:06d}", f"Item {i} v3", i % 500 + 12])
        started = time.perf_counter()
        result = SkuStockResource().import_data(dataset, dry_run=False, raise_errors=True)
        row_s = time.perf_counter() - started
        if result.has_errors():
            raise CommandError("the row-by-row import failed")
        per_row = row_s / compare
        extrapolated = per_row * n
        note = "" if compare == n else f" (measured on {compare:,} rows, {n:,} extrapolated)"
        self.stdout.write(
            f"django-import-export row by row: {row_s:.1f} s for {compare:,} rows, "
            f"{extrapolated:.0f} s for {n:,}{note}"
        )
        ours = preview_s + confirm_s
        speedup = extrapolated / ours
        ok = preview_s <= 10 and confirm_s <= 30 and peak <= 400 and speedup >= 5
        style = self.style.SUCCESS if ok else self.style.ERROR
        self.stdout.write(
            style(
                f"preview {preview_s:.1f} s (<= 10), confirm {confirm_s:.1f} s (<= 30), "
                f"peak {peak:.0f} MB (<= 400), {speedup:.1f}x faster than row by row (>= 5): "
                + ("targets met" if ok else "target MISSED")
            )
        )
