"""What the platforms' benchmark kits (``rakuten.bench``, ``futureshop.bench``) share: a
sandbox command as its own process, its call log, and shops in an in-process sandbox on
a simulated clock."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import CommandError

from .server import LoopbackServer
from .state import SandboxState

JST = dt.timezone(dt.timedelta(hours=9), "JST")


def sandbox_process(command: str, banner: str) -> tuple[subprocess.Popen, str]:
    """``manage.py <command> --port 0`` (the platform is another machine: its own
    process, its own interpreter lock); the URL its first line ("<banner> URL") names."""
    process = subprocess.Popen(  # noqa: S603 - our own manage.py command
        [sys.executable, "-u", "manage.py", command, "--port", "0"],
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    if banner not in line:
        process.kill()
        raise CommandError(f"{command} did not start: {line!r}")
    return process, line.split()[3]


def call_counts(url: str, endpoint: str) -> tuple[int, int]:
    """(calls of ``endpoint``, calls answered 429) of a sandbox process's call log."""
    calls = requests.get(f"{url}/_sandbox/calls", timeout=60).json()["calls"]
    return (
        sum(1 for c in calls if c["endpoint"] == endpoint),
        sum(1 for c in calls if c["status"] == 429),
    )


def first_call_at(url: str, endpoint: str) -> float | None:
    """When (time.time()) the sandbox process answered its first call of ``endpoint``."""
    calls = requests.get(f"{url}/_sandbox/calls", timeout=60).json()["calls"]
    times = [c["at"] for c in calls if c["endpoint"] == endpoint]
    return min(times) if times else None


class LoopbackShops:
    """A platform's shops in this process, on a simulated clock (Japan time, whole
    seconds), served on loopback. Subclasses add the platform's shops and orders."""

    def __init__(
        self,
        now: Callable[[], dt.datetime],
        sandbox_class: Callable[..., SandboxState],
        server_class: Callable[[Any], LoopbackServer],
    ) -> None:
        self.sandbox: Any = sandbox_class(
            clock=lambda: now().astimezone(JST).replace(microsecond=0)
        )
        self.server = server_class(self.sandbox).start()
        self.url = self.server.url

    def stop(self) -> None:
        self.server.stop()

    def calls(self) -> dict[str, int]:
        """Calls answered, by endpoint."""
        counts: dict[str, int] = {}
        for call in self.sandbox.calls_matching():
            counts[call.endpoint] = counts.get(call.endpoint, 0) + 1
        return counts
