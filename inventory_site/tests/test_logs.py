"""The request id (middleware, log filter) and the log formats; the production settings
(logging from the environment, PostgreSQL required, `check --deploy` clean with HTTPS)."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import AsyncClient
from django.urls import reverse

from inventory_site.logs import JsonFormatter, RequestIdFilter, request_id
from sync.schedules import schedules_ensure

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEYS = {
    "DJANGO_SECRET_KEY": "test-only-" + "0123456789abcdefghij" * 3,
    "FIELD_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWZlcm5ldC1rZXktMzItYnl0ZXMtISE=",
}


@pytest.fixture
def request_lines(caplog):
    """Records of the request logger, each with the request id its handler would add."""
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.DEBUG, logger="inventory_site.requests")
    yield lambda: [r for r in caplog.records if r.name == "inventory_site.requests"]
    caplog.handler.filters.clear()


@pytest.mark.django_db
def test_a_given_request_id_is_kept_sent_back_and_logged(client, request_lines):
    schedules_ensure()
    response = client.get(reverse("sync:dashboard"), HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert response["X-Request-ID"] == "lb-7f3a.42"
    (line,) = request_lines()
    assert line.request_id == "lb-7f3a.42"
    assert (line.method, line.path, line.status) == ("GET", "/dashboard/", 302)
    assert line.levelno == logging.INFO
    assert request_id.get() == "-"  # nothing left behind once the request is answered


@pytest.mark.django_db
@pytest.mark.parametrize("given", ["", "two\nlines", "x" * 200, "<script>"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(client, given):
    headers = {"HTTP_X_REQUEST_ID": given} if given else {}
    first = client.get("/no-such-page/", **headers)["X-Request-ID"]
    second = client.get("/no-such-page/", **headers)["X-Request-ID"]
    assert len(first) == 32
    assert int(first, 16) >= 0  # hexadecimal
    assert first != second


@pytest.mark.django_db
def test_healthz_is_logged_quietly_unless_it_fails(client, request_lines):
    schedules_ensure()
    client.get(reverse("healthz"))
    assert [r.levelno for r in request_lines()] == [logging.DEBUG]


@pytest.mark.django_db(transaction=True)
def test_under_asgi_as_uvicorn_serves_the_id_is_kept_too(request_lines):
    schedules_ensure()
    response = async_to_sync(AsyncClient().get)(
        reverse("healthz"), headers={"X-Request-ID": "async-1"}
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "async-1"
    assert [r.request_id for r in request_lines()] == ["async-1"]


def record(message="stock %s for %s", args=(3, "ce1111"), **extra):
    item = logging.LogRecord("sync.push", logging.WARNING, __file__, 1, message, args, None)
    item.__dict__.update(extra)
    return item


def test_the_json_format_is_one_object_a_line_with_the_request_id_and_extras():
    token = request_id.set("req-1")
    try:
        item = record(store="大阪店")
        RequestIdFilter().filter(item)
    finally:
        request_id.reset(token)
    line = JsonFormatter().format(item)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "stock 3 for ce1111"
    assert (entry["level"], entry["logger"], entry["request_id"]) == (
        "WARNING",
        "sync.push",
        "req-1",
    )
    assert entry["store"] == "大阪店"
    assert entry["time"].endswith("+00:00")


def test_the_json_format_carries_the_traceback_and_outside_a_request_a_dash():
    try:
        raise ValueError("bad row")
    except ValueError:
        item = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(item))
    assert entry["request_id"] == "-"
    assert "ValueError: bad row" in entry["exc_info"]


def test_the_plain_format_shows_the_request_id():
    formatter = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
    item = record()
    item.request_id = "req-2"
    assert formatter.format(item).endswith("WARNING sync.push [req-2] stock 3 for ce1111")


def production(*command: str, **env: str) -> subprocess.CompletedProcess:
    """manage.py with the production settings (debug off) in a process of its own."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "FIELD_", "LOG_", "DATABASE_URL", "INVENTORY_ALLOW"))
    }
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env={**clean, **GOOD_KEYS, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_logs_go_to_stdout_as_json_lines_when_asked():
    code = "import logging; logging.getLogger('inventory_site.x').warning('hello %s', 'world')"
    result = production(
        "shell", "-c", code, LOG_FORMAT="json", LOG_STREAM="stdout", INVENTORY_ALLOW_SQLITE="1"
    )
    assert result.returncode == 0, result.stderr
    # The shell's own banner is not a log line.
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert {"logger": "inventory_site.x", "message": "hello world", "request_id": "-"}.items() <= (
        lines[-1].items()
    )
    assert "hello" not in result.stderr


def test_bad_log_settings_are_refused():
    result = production("check", LOG_FORMAT="xml", INVENTORY_ALLOW_SQLITE="1")
    assert result.returncode != 0
    assert "LOG_FORMAT must be plain or json" in result.stderr


def test_sqlite_is_refused_with_debug_off_unless_allowed():
    refused = production("check")
    assert refused.returncode != 0
    assert "Set DATABASE_URL to a PostgreSQL database" in refused.stderr
    assert production("check", INVENTORY_ALLOW_SQLITE="1").returncode == 0
    assert production("check", DJANGO_DEBUG="1").returncode == 0


def test_check_deploy_is_clean_when_https_is_configured():
    result = production(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DATABASE_URL="postgres://inventory@127.0.0.1:5432/inventory_sync",  # not connected
        DJANGO_HTTPS="1",
        DJANGO_ALLOWED_HOSTS="inventory.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    # Without HTTPS, the same check says what is missing.
    plain = production(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DATABASE_URL="postgres://inventory@127.0.0.1:5432/inventory_sync",
    )
    assert plain.returncode != 0
    assert "security.W004" in plain.stderr + plain.stdout
