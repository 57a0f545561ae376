"""/healthz and `manage.py healthcheck`: each component that fails makes the answer 503
(exit 1) and is named; ages and counts are reported; nothing secret is shown."""

import datetime as dt
import json
import shutil
from io import StringIO
from unittest import mock

import pytest
import redis
from django.core.management import call_command
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule

from events.models import PendingPush
from inventory_site import health
from skus.tests.factories import SkuFactory
from stores.models import Store
from stores.tests.factories import StoreFactory
from sync.models import SyncRun
from sync.schedules import SCHEDULES, schedules_ensure

from .processes import free_port, redis_start

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def schedules():
    schedules_ensure()


def run(store, kind, status="succeeded", minutes_ago=0):
    at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return SyncRun.objects.create(
        store=store, kind=kind, status=status, started_at=at, finished_at=at
    )


def healthz(client):
    response = client.get(reverse("healthz"))
    return response.status_code, json.loads(response.content)


def test_a_healthy_deployment_answers_200_without_a_login(client):
    status, body = healthz(client)
    assert status == 200
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["database"] == {"ok": True, "vendor": connection.vendor}
    assert body["broker"] == {"ok": True, "kind": "orm", "queued": 0}
    assert body["schedules"] == {"ok": True, "expected": len(SCHEDULES), "missing": []}
    assert body["failed_pushes"] == {"ok": True, "count": 0}
    assert body["workers"] == {"clusters": 0}  # tasks run inline in the tests


def test_the_answer_is_never_cached_and_only_read(client):
    response = client.get(reverse("healthz"))
    assert "no-store" in response["Cache-Control"]
    assert client.head(reverse("healthz")).status_code == 200
    assert client.post(reverse("healthz")).status_code == 405


def test_a_database_that_does_not_answer_is_503_and_the_rest_not_checked(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("no route")):
        report = health.health_report()
    assert report["status"] == "failing"
    assert report["database"] == {"ok": False, "error": "OperationalError"}
    # The ORM broker lives in the same database.
    assert report["failing"] == ["database", "broker"]
    assert report["schedules"] == {"ok": None, "error": health.NOT_CHECKED}
    assert report["stores"]["ok"] is None


def test_a_redis_broker_that_does_not_answer_is_503_and_named(client, settings):
    settings.REDIS_URL = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"
    response = client.get(reverse("healthz"))
    body = json.loads(response.content)
    assert response.status_code == 503
    assert body["failing"] == ["broker"]
    assert body["broker"] == {"ok": False, "error": "ConnectionError", "kind": "redis"}
    assert "hunter2" not in response.content.decode()  # no address, no password


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server (.ci/run)")
def test_a_redis_broker_that_answers_is_ok_and_says_how_many_tasks_wait(settings):
    port = free_port()
    server = redis_start(port)
    try:
        settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
        redis.Redis(port=port).rpush(Conf.CLUSTER_NAME, "task-1", "task-2")
        report = health.health_report()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert report["status"] == "ok"
    assert report["broker"] == {"ok": True, "kind": "redis", "queued": 2}


def test_an_orm_broker_table_that_cannot_be_read_is_named(settings):
    with mock.patch("django_q.models.OrmQ.objects") as orm:
        orm.using.side_effect = OperationalError("relation django_q_ormq does not exist")
        report = health.health_report()
    assert report["failing"] == ["broker"]
    assert report["broker"] == {"ok": False, "error": "OperationalError", "kind": "orm"}


def test_a_missing_schedule_is_503_and_named(client):
    Schedule.objects.filter(name=SCHEDULES[1].name).delete()
    status, body = healthz(client)
    assert status == 503
    assert body["failing"] == ["schedules"]
    assert body["schedules"]["missing"] == [SCHEDULES[1].name]


def test_each_store_reports_the_age_of_its_last_successful_poll_and_push(client):
    store = StoreFactory(store_id="osaka")
    run(store, "poll", minutes_ago=5)
    run(store, "poll", status="failed", minutes_ago=1)  # not a success: not counted
    run(store, "push", minutes_ago=2)
    StoreFactory(store_id="closed", status=Store.Status.INACTIVE)
    status, body = healthz(client)
    assert status == 200
    entry = body["stores"]["stores"]["osaka"]
    assert 295 <= entry["last_poll_age_seconds"] <= 310
    assert 115 <= entry["last_push_age_seconds"] <= 130
    assert entry["poll_stale_after_seconds"] == 3600
    assert list(body["stores"]["stores"]) == ["osaka"]  # active stores only


def test_a_store_whose_polls_are_stale_is_503_and_says_which_threshold(client, settings):
    settings.HEALTH_POLL_STALE_MINUTES = 30
    stale = StoreFactory(store_id="stale")
    run(stale, "poll", minutes_ago=45)
    run(stale, "poll", status="failed", minutes_ago=1)
    # A store polled every 2 hours is stale after 4 hours, not after 30 minutes.
    slow = StoreFactory(store_id="slow", api_config={"poll_interval_minutes": 120})
    run(slow, "poll", minutes_ago=150)
    # Never polled: stale once it has existed longer than the threshold.
    never = StoreFactory(store_id="never")
    Store.objects.filter(pk=never.pk).update(created_at=timezone.now() - dt.timedelta(hours=2))
    StoreFactory(store_id="new")  # created a moment ago, not polled yet: not stale
    status, body = healthz(client)
    assert status == 503
    assert body["failing"] == ["stores"]
    assert body["stores"]["stale"] == ["never", "stale"]
    assert body["stores"]["poll_stale_minutes"] == 30
    assert body["stores"]["stores"]["stale"]["poll_stale_after_seconds"] == 1800
    assert body["stores"]["stores"]["slow"]["poll_stale_after_seconds"] == 4 * 3600
    assert body["stores"]["stores"]["never"]["last_poll_age_seconds"] is None


def test_stale_polls_are_reported_only_when_the_threshold_is_zero(client, settings):
    settings.HEALTH_POLL_STALE_MINUTES = 0
    run(StoreFactory(store_id="stale"), "poll", minutes_ago=600)
    status, body = healthz(client)
    assert status == 200
    entry = body["stores"]["stores"]["stale"]
    assert entry["last_poll_age_seconds"] >= 600 * 60
    assert entry["poll_stale_after_seconds"] is None


def test_failed_pushes_are_counted_not_failing(client):
    store = StoreFactory(store_id="kobe")
    PendingPush.objects.create(store=store, sku=SkuFactory(), status="failed", attempts=8)
    PendingPush.objects.create(store=store, sku=SkuFactory(), status="pending")
    status, body = healthz(client)
    assert status == 200
    assert body["failed_pushes"] == {"ok": True, "count": 1}


def test_a_check_that_raises_is_reported_as_failing():
    with mock.patch.object(health, "stores_check", side_effect=RuntimeError("boom")):
        report = health.health_report()
    assert report["failing"] == ["stores"]
    assert report["stores"] == {"ok": False, "error": "RuntimeError"}


def test_an_unknown_cluster_status_is_none():
    with mock.patch("django_q.status.Stat.get_all", side_effect=ConnectionError("down")):
        assert health.clusters_running() is None


def test_the_command_prints_the_same_report_and_exits_1_when_failing():
    out = StringIO()
    call_command("healthcheck", stdout=out)
    assert json.loads(out.getvalue())["status"] == "ok"
    Schedule.objects.filter(name=SCHEDULES[0].name).delete()
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("healthcheck", stdout=out)
    assert exit_.value.code == 1
    assert json.loads(out.getvalue())["failing"] == ["schedules"]
