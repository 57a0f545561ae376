"""`make demo` as a user runs it, with none of the default ports: a fresh SQLite database, the
three sandboxes, the task cluster and the web server. The admin login is the last thing it
prints and works; an order placed in one Rakuten shop reaches the other shops (another
Rakuten shop, the futureshop store and the eBay store) within two minutes; Ctrl-C stops
every process it started, and make reports no error."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest
import requests

from inventory_site.tests.processes import ROOT, free_port, kill_all, processes_using, wait_for

PORTS = ("PORT", "SANDBOX_PORT", "FS_SANDBOX_PORT", "EBAY_SANDBOX_PORT")
SYNC_SECONDS = 120  # the promise: an order reaches the other shops within two minutes


def _ports() -> dict[str, int]:
    while True:
        ports = {name: free_port() for name in PORTS}
        if len(set(ports.values())) == len(PORTS):
            return ports


def _demo_env(database_url: str) -> dict[str, str]:
    """The environment a user's shell has: none of the test run's Django settings."""
    dropped = ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "INVENTORY_ALLOW_SQLITE", "REDIS_URL")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("LOG_")}
    return {**env, "DATABASE_URL": database_url}


def _get(url: str) -> dict | None:
    try:
        answer = requests.get(url, timeout=5)
    except requests.ConnectionError:
        return None
    return answer.json() if answer.status_code == 200 else None


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
def test_make_demo_on_other_ports_syncs_an_order_to_the_other_shops(tmp_path: Path) -> None:
    ports = _ports()
    venv = Path(sys.executable).parent.parent
    demo_dir = tmp_path / "demo"
    env = _demo_env(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    rms = f"http://127.0.0.1:{ports['SANDBOX_PORT']}/_sandbox"
    futureshop = f"http://127.0.0.1:{ports['FS_SANDBOX_PORT']}/_sandbox"
    ebay = f"http://127.0.0.1:{ports['EBAY_SANDBOX_PORT']}/_sandbox"
    web = f"http://127.0.0.1:{ports['PORT']}"
    output = tmp_path / "make-demo.out"
    with output.open("w") as out:
        demo = subprocess.Popen(  # noqa: S603 - the README's own command
            [
                shutil.which("make") or "make",
                # The virtualenv is this test run's: never reinstalled from here.
                *("-o", f"{venv}/.installed"),
                "demo",
                f"VENV={venv}",
                *(f"{name}={port}" for name, port in ports.items()),
                "ORDERS_PER_MINUTE=0",  # the test's own order only
                f"DEMO_DIR={demo_dir}",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
    marker = str(tmp_path)  # in the DATABASE_URL of every process the demo starts

    def printed() -> str:
        return output.read_text()

    try:
        wait_for(
            lambda: demo.poll() is not None or "Ctrl-C stops the demo." in printed(),
            300,
            "the demo to start",
        )
        assert demo.poll() is None, printed()[-3000:]

        # The login is the last thing printed, boxed, after a handful of lines, not 150.
        lines = printed().rstrip().splitlines()
        assert len(lines) < 25, printed()
        tail = "\n".join(lines[-6:])
        assert re.search(rf"Inventory Sync demo: +http://127\.0\.0\.1:{ports['PORT']}/", tail)
        user = re.search(r"User: +(\S+)", tail)[1]
        password = re.search(r"Password: +(\S+)", tail)[1]
        for name in ("SANDBOX_PORT", "FS_SANDBOX_PORT", "EBAY_SANDBOX_PORT"):
            assert f"http://127.0.0.1:{ports[name]}/" in printed()
        assert "Traceback" not in printed()
        assert "Applying" not in printed()  # migrate's progress went to the log

        # That login opens the dashboard.
        browser = requests.Session()
        form = browser.get(f"{web}/admin/login/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
        login = browser.post(
            f"{web}/admin/login/?next=/dashboard/",
            data={"username": user, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{web}/admin/login/"},
            allow_redirects=False,
            timeout=30,
        )
        assert (login.status_code, login.headers.get("Location")) == (302, "/dashboard/")
        assert browser.get(f"{web}/dashboard/", timeout=30).status_code == 200

        # Orders placed before a store's first poll are in the stock the demo started from:
        # the order goes in once the Tokyo shop has been polled.
        def polled() -> bool:
            calls = _get(f"{rms}/calls?shop=demo-tokyo&endpoint=order.search")
            return bool(calls and calls["calls"])

        wait_for(polled, 150, "the first poll of demo-tokyo")
        time.sleep(2)  # RMS order times have whole seconds
        placed = requests.post(
            f"{rms}/shops/demo-tokyo/orders",
            json={"lines": [{"manageNumber": "towel", "variantId": "Towel-NAVY", "units": 2}]},
            timeout=10,
        )
        assert placed.status_code == 201, placed.text
        ordered = time.monotonic()

        # 3 towels in the pool, 2 sold in Tokyo: every other shop shows 1.
        def shown() -> dict[str, int | None]:
            osaka = _get(f"{rms}/shops/demo-osaka/inventory") or {"inventory": []}
            fs = _get(f"{futureshop}/shops/demo-fs/stock/Towel-NAVY") or {}
            eb = _get(f"{ebay}/sellers/demo-ebay/stock/Towel-NAVY") or {}
            rows = [r for r in osaka["inventory"] if r["variantId"] == "Towel-NAVY"]
            return {
                "demo-osaka": rows[0]["quantity"] if rows else None,
                "demo-futureshop": fs.get("count"),
                "demo-ebay": eb.get("quantity"),
            }

        wanted = {"demo-osaka": 1, "demo-futureshop": 1, "demo-ebay": 1}
        while shown() != wanted:
            assert demo.poll() is None, printed()[-3000:]
            assert time.monotonic() - ordered < SYNC_SECONDS, (
                f"after {SYNC_SECONDS} s the other shops show {shown()}; the demo's logs: "
                + "\n".join(
                    f"== {log.name}\n{log.read_text()[-2000:]}"
                    for log in sorted((demo_dir / "log").glob("*.log"))
                )
            )
            time.sleep(1)

        # Ctrl-C, as a terminal sends it: to the whole process group.
        os.killpg(demo.pid, signal.SIGINT)
        demo.wait(timeout=90)
        wait_for(lambda: not processes_using(marker), 30, "every process of the demo to stop")
        assert "Stopping the demo..." in printed()
        assert "make: ***" not in printed(), printed()[-2000:]
        assert "Error" not in printed()
        assert (demo_dir / "sandbox.json").exists()  # the sandboxes saved their state
    finally:
        if demo.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(timeout=30)
        kill_all(processes_using(marker))
