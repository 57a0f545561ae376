"""A sandbox's state as JSON: dumped for the control API, saved to a file, loaded back.

The kit owns the mechanics (one lock, datetimes as ISO strings, an atomic write, saving
every N seconds and on exit); the platform's `platform_dump`/`platform_load` own the shape,
so each platform's state file stays in the format it already has.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any, Self


def json_default(value: Any) -> Any:
    """Datetimes as ISO 8601 with their offset; anything else JSON cannot hold is a bug."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def parse_datetime(value: str | None) -> dt.datetime | None:
    """The reverse of `json_default` for one datetime, which may have been saved as null."""
    return dt.datetime.fromisoformat(value) if value else None


class Persistence:
    """Part of `SandboxState`: dump, load and save the platform's state under its lock."""

    lock: threading.RLock

    def platform_dump(self) -> dict[str, Any]:
        """The platform's state as plain data (datetimes allowed); the kit holds the lock."""
        return {}

    def platform_load(self, data: dict[str, Any]) -> None:
        """Replace the platform's state with what `platform_dump` gave; the kit holds the lock."""

    def dump(self) -> dict[str, Any]:
        with self.lock:
            raw = self.platform_dump()
        return json.loads(json.dumps(raw, default=json_default))

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.platform_load(data)

    def load_file(self, path: Path) -> bool:
        """Load a state file if there is one (a first start has none); whether it did."""
        if not path.exists():
            return False
        self.load(json.loads(path.read_text()))
        return True

    def save(self, path: Path) -> None:
        """Write through a temporary file, so a crash mid-write leaves the last good state."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.dump(), ensure_ascii=False, indent=1))
        tmp.replace(path)


class Autosave:
    """Save a sandbox every `every` seconds from a thread, and once more on `stop()`.

    A demo sandbox is stopped with Ctrl-C or killed: the periodic save bounds what a kill
    loses, the last save keeps everything on a clean exit.
    """

    def __init__(self, sandbox: Persistence, path: Path, every: float = 30.0) -> None:
        self.sandbox = sandbox
        self.path = path
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name="sandbox-autosave", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.sandbox.save(self.path)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sandbox.save(self.path)
