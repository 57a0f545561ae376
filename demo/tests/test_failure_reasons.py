"""A failed run always says why, even when what stopped it said nothing."""

from __future__ import annotations

import pytest

from events.actors import Actor
from stores.services import store_create
from sync.errors import PlatformServerError
from sync.models import SyncRun
from sync.runs import MSG_FAILED_SILENTLY, MSG_NO_REASON, RunLog, run_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return store_create(store_id="reasons", store_name="Reasons", actor=Actor.cli("test"))


def test_a_platform_error_without_text_is_named(store):
    def work(log: RunLog) -> SyncRun:
        raise PlatformServerError()

    run = run_job(store=store, kind=SyncRun.Kind.PUSH, work=work)
    assert run.status == SyncRun.Status.FAILED
    assert run.error == str(MSG_NO_REASON % {"error": "PlatformServerError"})


def test_an_unexpected_error_without_text_is_named_and_raised(store):
    def work(log: RunLog) -> SyncRun:
        raise KeyError

    with pytest.raises(KeyError):
        run_job(store=store, kind=SyncRun.Kind.POLL, work=work)
    run = SyncRun.objects.get(store=store)
    assert run.status == SyncRun.Status.FAILED
    assert run.error == str(MSG_NO_REASON % {"error": "KeyError"})


def test_a_run_failed_without_a_reason_gives_its_last_warning(store):
    def work(log: RunLog) -> SyncRun:
        log.warn("the store answered %d times with nothing", 3)
        log.say("giving up")
        return log.finish(SyncRun.Status.FAILED)

    run = run_job(store=store, kind=SyncRun.Kind.PUSH, work=work)
    assert run.error == "the store answered 3 times with nothing"


def test_a_run_failed_without_a_reason_or_a_warning_says_so(store):
    run = run_job(
        store=store,
        kind=SyncRun.Kind.PUSH,
        work=lambda log: log.finish(SyncRun.Status.FAILED, "  "),
    )
    assert run.error == str(MSG_FAILED_SILENTLY)
    # Another status keeps what it was given: a success has nothing to explain.
    done = run_job(
        store=store, kind=SyncRun.Kind.PUSH, work=lambda log: log.finish(SyncRun.Status.SUCCEEDED)
    )
    assert done.error == ""
