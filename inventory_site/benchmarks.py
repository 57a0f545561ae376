"""What the bench_* commands share: a scratch database of their own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """Create, migrate and finally drop `<db>_<name>` (a file under var/ on SQLite).

    The real ledger is never touched: its events cannot be deleted once written."""
    old_name = connection.settings_dict["NAME"]
    scratch = f"{old_name}_{name}"
    if connection.vendor == "sqlite":
        (settings.BASE_DIR / "var").mkdir(exist_ok=True)
        scratch = str(settings.BASE_DIR / "var" / f"{name}.sqlite3")
    connection.settings_dict.setdefault("TEST", {})["NAME"] = scratch
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield scratch
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
