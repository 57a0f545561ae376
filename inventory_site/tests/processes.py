"""What the production-profile tests share: a scratch PostgreSQL database the processes
they start can see (named inventory_prod_*, dropped at the end), free ports, the
environment of the production settings, and a manage.py run in it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_url(database: str) -> str:
    settings = connection.settings_dict
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{settings['PORT'] or 5432}/{database}"


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(
        _server_url("postgres").replace("postgres://", "postgresql://"), autocommit=True
    ) as admin:
        admin.execute(sql)


def database_create(name: str) -> None:
    _admin(f'CREATE DATABASE "{name}"')


def database_drop(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database(purpose: str) -> Iterator[tuple[str, str]]:
    """(name, DATABASE_URL) of a new empty database, dropped at the end."""
    name = f"inventory_prod_{purpose}_{uuid.uuid4().hex[:8]}"
    database_create(name)
    try:
        yield name, _server_url(name)
    finally:
        database_drop(name)


def production_env(database_url: str, **extra: str) -> dict[str, str]:
    """The production settings (inventory_site.settings, debug off) on ``database_url``,
    with the test run's own keys (set by the test settings)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "INVENTORY_ALLOW_SQLITE")
        and not k.startswith(("REDIS_", "LOG_", "STATIC_"))
    }
    return {**env, "DATABASE_URL": database_url, **extra}


def manage(env: dict[str, str], *command: str, timeout: float = 300) -> str:
    """Run manage.py; its stdout (fails the test, with its stderr, when it fails)."""
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert result.returncode == 0, f"manage.py {command[0]}: {result.stderr[-3000:]}"
    return result.stdout


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def processes_using(marker: str) -> list[int]:
    """Our processes whose environment holds ``marker`` (a scratch database's name)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def redis_start(port: int) -> subprocess.Popen:
    """A redis-server of the test's own on ``port`` (no persistence), once it answers."""
    import redis

    server = subprocess.Popen(  # noqa: S603 - a Redis of the test's own
        [
            *(shutil.which("redis-server") or "redis-server", "--port", str(port)),
            *("--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=1)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    wait_for(answers, 30, "redis-server")
    return server
