"""The run loop every platform's sandbox command shares: serve until Ctrl-C or SIGTERM,
generate the demo's orders at a steady rate, save the state now and then and on exit."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SAVE_EVERY = 30.0


def _clock(sandbox: Any, stop: threading.Event, per_minute: float, state_file: Path | None) -> None:
    """Once a second: the platform's own time-driven changes (``tick``, if it has one),
    ``per_minute`` new orders on average (``generate``), a save every 30 s."""
    owed = 0.0
    last = saved = time.monotonic()
    while not stop.wait(1.0):
        now = time.monotonic()
        owed += per_minute * (now - last) / 60
        last = now
        tick = getattr(sandbox, "tick", None)
        if tick is not None:
            tick()
        if owed >= 1:
            sandbox.generate(int(owed))
            owed -= int(owed)
        if state_file and now - saved > SAVE_EVERY:
            sandbox.save(state_file)
            saved = now


def serve(
    server: Any,
    sandbox: Any,
    *,
    state_file: Path | None,
    orders_per_minute: float,
    say: Callable[[str], None],
) -> None:
    """Serve ``server`` in this thread until interrupted; the state is saved at the end."""
    stop = threading.Event()
    threading.Thread(
        target=_clock, args=(sandbox, stop, orders_per_minute, state_file), daemon=True
    ).start()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
        if state_file:
            sandbox.save(state_file)
            say(f"State saved to {state_file}")
