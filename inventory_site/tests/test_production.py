"""The production profile as real processes (`scripts/serve.sh`, what `make serve` runs):
debug off, PostgreSQL, Redis as the broker, gunicorn with uvicorn workers, WhiteNoise, a
django-q2 cluster. Logged in through it, a page and its static files, a run's live log,
/healthz healthy then failing with the broker stopped, and everything stops cleanly."""

import json
import re
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from .processes import (
    ROOT,
    free_port,
    kill_all,
    manage,
    processes_using,
    production_env,
    redis_start,
    scratch_database,
    wait_for,
)

pytestmark = pytest.mark.postgres

SEED = """
from django.contrib.auth.models import User
from django.utils import timezone
from events.actors import Actor
from stores.models import Store
from stores.services import store_create
from sync.models import RunEvent, SyncRun

User.objects.create_superuser("ops", password="{password}")
store = store_create(store_id="prod-check", store_name="Prod check", actor=Actor.cli("test"))
Store.objects.filter(pk=store.pk).update(status=Store.Status.INACTIVE)  # nothing to poll
run = SyncRun.objects.create(
    store=store, kind="push", status="succeeded", finished_at=timezone.now(), counts={{"pushed": 2}}
)
for seq, message in enumerate(["2 rows claimed", "2 pushed, 0 failed"], start=1):
    RunEvent.objects.create(run=run, seq=seq, message=message)
print(run.pk)
"""


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server (.ci/run)")
def test_the_production_profile_serves_streams_reports_health_and_stops(tmp_path: Path):
    password = secrets.token_urlsafe(16)
    port, redis_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    with scratch_database("serve") as (database, url):
        env = production_env(
            url,
            REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
            STATIC_ROOT=str(tmp_path / "static"),
            LOG_FORMAT="json",
            # Plain HTTP on loopback: the session cookie may not be https-only here.
            DJANGO_SECURE_COOKIES="0",
            HOST="127.0.0.1",
            PORT=str(port),
            WEB_WORKERS="2",
            Q_WORKERS="1",
        )
        redis_server = redis_start(redis_port)
        log = (tmp_path / "serve.log").open("w")
        serve = subprocess.Popen(  # noqa: S603 - our own script
            [str(ROOT / "scripts" / "serve.sh")],
            cwd=ROOT,
            env={**env, "BIN": str(Path(sys.executable).parent)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:

            def healthz() -> requests.Response | None:
                try:
                    return requests.get(f"{base}/healthz", timeout=10)
                except requests.ConnectionError:
                    return None

            wait_for(lambda: serve.poll() is None and healthz() is not None, 240, "the server")
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            run_id = int(manage(env, "shell", "-c", SEED.format(password=password)).split()[-1])

            # Logged in through the admin's login form (CSRF token and cookie).
            browser = requests.Session()
            form = browser.get(f"{base}/admin/login/?next=/dashboard/", timeout=10)
            assert form.status_code == 200
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
            login = browser.post(
                f"{base}/admin/login/?next=/dashboard/",
                data={
                    "username": "ops",
                    "password": password,
                    "csrfmiddlewaretoken": token,
                    "next": "/dashboard/",
                },
                allow_redirects=False,
                timeout=10,
            )
            assert (login.status_code, login.headers["Location"]) == (302, "/dashboard/")

            # A page and its static files, under hashed names, from WhiteNoise.
            page = browser.get(f"{base}/dashboard/", timeout=30)
            assert page.status_code == 200
            assert "X-Request-ID" in page.headers
            scripts = re.findall(r'src="(/static/[^"]+\.[0-9a-f]{12}\.js)"', page.text)
            styles = re.findall(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page.text)
            assert any("/sync/language." in path for path in scripts), scripts
            for path in (*scripts, *styles[:2]):
                static = browser.get(
                    f"{base}{path}", headers={"Accept-Encoding": "gzip"}, timeout=10
                )
                assert static.status_code == 200, path
                assert "immutable" in static.headers["Cache-Control"]  # hashed: cached for ever
                assert static.headers.get("Content-Encoding") == "gzip"  # compressed
                assert static.content

            # The run's live log as Server-Sent Events, through the uvicorn worker.
            assert browser.get(f"{base}/dashboard/runs/{run_id}/", timeout=10).status_code == 200
            with browser.get(
                f"{base}/dashboard/runs/{run_id}/events/",
                headers={"X-Request-ID": "ci-sse-1"},
                stream=True,
                timeout=(5, 30),
            ) as stream:
                assert stream.headers["Content-Type"].startswith("text/event-stream")
                lines = []
                for line in stream.iter_lines(decode_unicode=True):
                    lines.append(line)
                    if line == "event: end":
                        break
            assert lines.index("id: 1") < lines.index("id: 2") < lines.index("event: end")
            assert '"message": "2 pushed, 0 failed"' in "\n".join(lines)

            # Healthy: the database, Redis, the schedules migrate made, a cluster running.
            def report() -> tuple[int, dict]:
                answer = healthz()
                assert answer is not None
                return answer.status_code, answer.json()

            wait_for(lambda: (report()[1]["workers"]["clusters"] or 0) >= 1, 60, "the cluster")
            status, body = report()
            assert status == 200, body
            assert body["database"] == {"ok": True, "vendor": "postgresql"}
            assert body["broker"]["kind"] == "redis"
            assert body["broker"]["ok"]
            assert body["schedules"]["ok"]

            # The broker stopped: 503, and the answer says which component.
            redis_server.terminate()
            redis_server.wait(timeout=30)
            status, body = report()
            assert status == 503
            assert body["failing"] == ["broker"]
            assert body["database"]["ok"]

            # Ctrl-C (SIGTERM here): both stop, nothing of the profile is left running.
            serve.send_signal(signal.SIGTERM)
            assert serve.wait(timeout=90) == 0
            wait_for(lambda: not processes_using(database), 30, "every process to stop")
            assert healthz() is None  # nobody listens any more
        finally:
            if serve.poll() is None:
                serve.kill()
            kill_all(processes_using(database))
            if redis_server.poll() is None:
                redis_server.kill()
            log.close()
        output = (tmp_path / "serve.log").read_text()

    # Logs: JSON lines, each request's with its id (the one the client sent, here).
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    streamed = [r for r in records if r.get("request_id") == "ci-sse-1"]
    assert streamed, output[-3000:]
    assert streamed[0]["logger"] == "inventory_site.requests"
    assert (streamed[0]["path"], streamed[0]["status"]) == (
        f"/dashboard/runs/{run_id}/events/",
        200,
    )
    assert any(r["logger"] == "django-q" for r in records)  # the cluster's lines too
