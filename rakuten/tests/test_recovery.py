"""A worker that dies mid-run: its store is taken over once its lease runs out, its run is
closed ``interrupted``, and nothing is lost or done twice (issue: sync that survives crashes)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from events.models import InventoryEvent, PendingPush
from sync.leases import lease_acquire
from sync.models import JobLease, SyncRun
from sync.orders import orders_poll
from sync.push import push_request, push_run
from sync.runs import LeaseLost, RunLog, run_job

ROOT = Path(__file__).resolve().parents[2]


def test_a_dead_workers_store_is_taken_over_and_its_run_closed_interrupted(engine, settings):
    settings.SYNC_LEASE_SECONDS = 60
    store = engine_store("store-b")
    # A worker took the lease and started a run, then died: nobody renews the lease.
    token = lease_acquire("push:store-b")
    dead = SyncRun.objects.create(
        store=store, kind="push", lease_key="push:store-b", lease_token=token
    )
    push_request(store_id="store-b")
    assert push_run(store_id="store-b").status == SyncRun.Status.SKIPPED  # lease still alive
    JobLease.objects.filter(key="push:store-b").update(expires_at=dead.started_at)
    run = push_run(store_id="store-b")
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.counts["pushed"] == 3
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.INTERRUPTED
    assert f"run {run.pk} took the store over" in dead.error
    assert dead.finished_at is not None
    assert "Took the store over from interrupted runs (1)." in run.log


def test_a_task_delivered_twice_leaves_a_run_another_worker_holds_alone(engine):
    store = engine_store("store-a")
    held = SyncRun.objects.create(
        store=store, kind="push", lease_key="push:store-a", lease_token="someone-else"
    )
    assert push_run(store_id="store-a", run=held) == held
    held.refresh_from_db()
    assert (held.status, held.finished_at) == (SyncRun.Status.RUNNING, None)
    done = SyncRun.objects.create(store=store, kind="push", status="succeeded")
    push_run(store_id="store-a", run=done)
    done.refresh_from_db()
    assert done.status == SyncRun.Status.SUCCEEDED


def test_a_run_that_lost_its_lease_stops_interrupted(engine, settings):
    settings.SYNC_LEASE_SECONDS = 0  # beat on every unit of work
    store = engine_store("store-a")

    def work(log: RunLog) -> SyncRun:
        log.add("items")
        # Meanwhile the lease ran out and another worker took the store.
        JobLease.objects.filter(key="sku_sync:store-a").update(holder="other")
        log.add("items")
        raise AssertionError("the run went on without its lease")

    run = run_job(store=store, kind=SyncRun.Kind.SKU_SYNC, work=work)
    assert run.status == SyncRun.Status.INTERRUPTED
    assert run.counts == {"items": 2}  # the second item was done; then it noticed
    assert isinstance(LeaseLost("x"), Exception)


def engine_store(store_id):
    from stores.models import Store

    return Store.objects.get(pk=store_id)


# --- a real worker process killed with SIGKILL (PostgreSQL: the process shares the DB) ---


def _worker(*command: str) -> subprocess.Popen:
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        # The production settings: RMS's own timeouts (30 s), so the worker is still
        # waiting on the hanging call when it is killed.
        "DJANGO_SETTINGS_MODULE": "inventory_site.settings",
        "SYNC_LEASE_SECONDS": str(django_settings.SYNC_LEASE_SECONDS),
    }
    return subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(check, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _kill_mid_run(engine, kind: str, endpoint: str, command: list[str]) -> float:
    """Start a worker, let it hang on ``endpoint``, kill -9 it; the monotonic kill time."""
    engine.sandbox.hang_seconds = 8.0
    engine.sandbox.fault_add(endpoint, "hang", 1)
    worker = _worker(*command)
    try:
        _wait_for(
            lambda: (
                SyncRun.objects.filter(kind=kind, status="running").exclude(lease_token="").exists()
            )
        )
        time.sleep(1.5)  # its call is in flight: the sandbox holds the answer back 8 s
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    return time.monotonic()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_kill_9_mid_push_the_store_recovers_within_the_lease_and_loses_no_push(engine, settings):
    settings.SYNC_LEASE_SECONDS = 3
    engine.order("store-a", units=2)
    orders_poll(store_id="store-a")
    assert PendingPush.objects.filter(store_id="store-b").count() == 1
    push_request(store_id="store-b")
    killed = _kill_mid_run(
        engine, "push", "inventory.bulk_upsert", ["push_inventory", "--store", "store-b"]
    )
    _wait_for(lambda: push_run(store_id="store-b").status == SyncRun.Status.SUCCEEDED)
    recovered = time.monotonic() - killed
    assert recovered < settings.SYNC_LEASE_SECONDS + 5
    (dead,) = SyncRun.objects.filter(kind="push", status=SyncRun.Status.INTERRUPTED)
    assert dead.finished_at is not None
    assert not PendingPush.objects.filter(store_id="store-b").exists()  # nothing lost
    assert engine.shown("store-b") == 23
    assert engine.shown("store-b", "Towel-NAVY", "towel") == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_kill_9_mid_poll_the_store_recovers_and_takes_the_order_once(engine, settings):
    settings.SYNC_LEASE_SECONDS = 3
    engine.order("store-a", units=2)
    killed = _kill_mid_run(engine, "poll", "order.search", ["poll_orders", "--store", "store-a"])
    _wait_for(lambda: orders_poll(store_id="store-a").status == SyncRun.Status.SUCCEEDED)
    recovered = time.monotonic() - killed
    assert recovered < settings.SYNC_LEASE_SECONDS + 5
    assert SyncRun.objects.filter(kind="poll", status=SyncRun.Status.INTERRUPTED).count() == 1
    orders_poll(store_id="store-a")
    taken = InventoryEvent.objects.filter(store_id="store-a", event_type="ORDER_RECEIVED")
    assert [event.quantity for event in taken] == [-2]  # once, not lost, not doubled


@pytest.mark.django_db(transaction=True)
def test_a_run_stuck_in_a_long_platform_call_keeps_its_lease(engine, settings):
    settings.SYNC_LEASE_SECONDS = 2
    store = engine_store("store-a")

    def work(log: RunLog) -> SyncRun:
        time.sleep(3.5)  # one slow call, longer than the lease: the keeper renews it
        assert lease_acquire("reconcile:store-a") is None
        return log.finish(SyncRun.Status.SUCCEEDED)

    run = run_job(store=store, kind=SyncRun.Kind.RECONCILE, work=work)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert lease_acquire("reconcile:store-a") is not None  # given back at the end


@pytest.mark.postgres
def test_bench_recovery_measures_and_checks_itself():
    """The benchmark in its own process, with a short lease and restart cadence."""
    env = {**os.environ, "DJANGO_DEBUG": "0", "SYNC_LEASE_SECONDS": "2"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "bench_recovery", "--rounds", "1", "--tick", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "recovery after kill -9 mid-push: min" in result.stdout
    assert "poll: recovered in" in result.stdout
    assert "the order taken once" in result.stdout
