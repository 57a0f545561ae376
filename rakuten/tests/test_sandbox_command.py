"""`manage.py rakuten_sandbox` as its own process: serves, generates orders, saves its state."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from rakuten.client import RmsClient
from rakuten.sandbox.demo import DEMO_SHOPS
from sync.ratelimit import RateLimiter

ROOT = Path(__file__).resolve().parents[2]


def start(*args):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "inventory_site.test_settings"}
    process = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "-u", "manage.py", "rakuten_sandbox", "--port", "0", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    assert "RMS sandbox on http://127.0.0.1:" in line, process.stderr.read()
    return process, line.split()[3]


def stop(process):
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    return out


def test_serves_the_demo_shops_generates_orders_and_keeps_its_state(tmp_path):
    state = tmp_path / "sandbox.json"
    process, url = start("--demo", "--state", str(state), "--orders-per-minute", "600")
    try:
        _, secret, key = DEMO_SHOPS[0]
        client = RmsClient(
            service_secret=secret, license_key=key, base_url=url, limiter=RateLimiter()
        )
        assert client.variant_get("mug", "Mug-WHITE").quantity <= 40
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            health = requests.get(url + "/_sandbox/state", timeout=5).json()
            if sum(len(shop["orders"]) for shop in health["shops"]) >= 5:
                break
            time.sleep(0.3)
        else:
            raise AssertionError("the sandbox generated no orders")
    finally:
        out = stop(process)
    assert "State saved" in out
    saved = json.loads(state.read_text())
    assert {shop["shop_id"] for shop in saved["shops"]} == {s for s, *_ in DEMO_SHOPS}
    assert sum(len(shop["orders"]) for shop in saved["shops"]) >= 5
    # A restart picks the saved state up again.
    process, url = start("--state", str(state))
    try:
        again = requests.get(url + "/_sandbox/state", timeout=5).json()
        assert again["shops"] == saved["shops"]
    finally:
        stop(process)
