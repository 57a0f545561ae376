"""The live log of every run: lines as events, the run page, JSON after N, the SSE stream."""

import asyncio

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from inventory_site.permissions import groups_ensure
from stores.models import Store
from sync.models import RunEvent, SyncRun
from sync.runs import RunLog

pytestmark = pytest.mark.django_db


def member(client, group):
    groups_ensure()
    user = User.objects.create_user(f"{group}-user", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


@pytest.fixture
def run():
    store = Store.objects.create(store_id="live", store_name="Live")
    return SyncRun.objects.create(store=store, kind=SyncRun.Kind.PUSH)


def test_a_runs_lines_are_events_in_order_and_its_end_says_how_it_went(run):
    log = RunLog(run)
    log.say("first %d", 1)
    log.warn("careful <b>")
    log.add("pushed", 3)
    log.finish(SyncRun.Status.PARTIAL, "one refused")
    rows = list(RunEvent.objects.filter(run=run).values_list("seq", "level", "message"))
    assert rows == [
        (1, "info", "first 1"),
        (2, "warning", "careful <b>"),
        (3, "error", "partial (pushed 3): one refused"),
    ]
    # A second writer of the same run (the task after the page made the row) goes on.
    RunLog(SyncRun.objects.get(pk=run.pk)).say("later")
    assert RunEvent.objects.filter(run=run).latest("seq").seq == 4
    assert "first 1" in SyncRun.objects.get(pk=run.pk).log


class TestLinesInTheReadersLanguage:
    """A line is kept as its English msgid and values, and read in the page's language."""

    def test_a_line_is_kept_in_english_and_shown_in_japanese(self, client, run):
        log = RunLog(run)
        log.say(gettext_lazy("Order %(order)s: not found on the platform."), order="A-1")
        log.add("pushed", 2)
        log.finish(SyncRun.Status.SUCCEEDED)
        first, last = RunEvent.objects.filter(run=run).order_by("seq")
        assert first.message == "Order A-1: not found on the platform."
        assert (first.template, first.params) == (
            "Order %(order)s: not found on the platform.",
            {"order": "A-1"},
        )
        assert last.message == "succeeded (pushed 2)"
        with translation.override("ja"):
            assert first.text == "注文 A-1：プラットフォームに見つかりません。"
            assert last.text == "成功（2 件のSKUをプッシュ）"
        member(client, "viewer")
        html = client.get(
            reverse("sync:run", args=[run.pk]), headers={"accept-language": "ja"}
        ).content.decode()
        assert "注文 A-1：プラットフォームに見つかりません。" in html
        data = client.get(
            reverse("sync:run_events", args=[run.pk]), headers={"accept-language": "ja"}
        ).json()
        assert [event["message"] for event in data["events"]] == [
            "注文 A-1：プラットフォームに見つかりません。",
            "成功（2 件のSKUをプッシュ）",
        ]

    def test_a_failed_runs_last_line_reads_its_counts_and_error_in_words(self, run):
        log = RunLog(run)
        log.add("failed", 1)
        log.finish(SyncRun.Status.FAILED, "HTTP 500")
        last = RunEvent.objects.filter(run=run).latest("seq")
        assert last.message == "failed (failed 1): HTTP 500"
        with translation.override("en"):
            assert last.text == "failed (1 SKU failed): HTTP 500"
        with translation.override("zh-hans"):
            assert last.text == "失败（1 个SKU失败）：HTTP 500"

    def test_values_are_kept_as_json_keeps_them(self, run, settings):
        import datetime as dt

        settings.TIME_ZONE = "Asia/Tokyo"
        at = dt.datetime(2026, 1, 5, 0, 30, tzinfo=dt.UTC)
        RunLog(run).say("from %s, %d rows, %s", at, 3, ValueError("bad"))
        line = RunEvent.objects.get(run=run)
        assert line.params == ["2026-01-05 09:30:00", 3, "bad"]
        assert line.message == line.text == "from 2026-01-05 09:30:00, 3 rows, bad"

    def test_a_line_from_before_templates_or_one_that_does_not_fit_shows_its_text(self, run):
        old = RunEvent.objects.create(run=run, seq=1, message="written long ago 100%")
        assert old.text == "written long ago 100%"
        broken = RunEvent.objects.create(
            run=run, seq=2, message="the English", template="%(missing)s", params={"x": 1}
        )
        assert broken.text == "the English"
        plain = RunLog(run)
        plain.say("100% done")  # no values: never %-formatted
        assert RunEvent.objects.get(run=run, seq=3).text == "100% done"


def test_the_json_read_gives_the_lines_after_n(client, run):
    log = RunLog(run)
    for i in range(5):
        log.say("line %d", i)
    member(client, "viewer")
    data = client.get(reverse("sync:run_events", args=[run.pk]), {"after": 3}).json()
    assert [e["message"] for e in data["events"]] == ["line 3", "line 4"]
    assert (data["finished"], data["status"]) == (False, "running")


def test_the_live_log_needs_a_staff_login(client, run):
    for name in ("sync:run", "sync:run_events"):
        response = client.get(reverse(name, args=[run.pk]))
        assert response.status_code == 302
        assert "/login/" in response["Location"]
    user = User.objects.create_user("staff-without-group", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("sync:run", args=[run.pk])).status_code == 403


def test_the_run_page_shows_lines_escaped_and_a_stop_for_who_may(client, run):
    RunLog(run).say("<script>alert(1)</script>")
    member(client, "viewer")
    html = client.get(reverse("sync:run", args=[run.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert 'id="run-stop"' not in html  # a viewer cannot stop runs
    client.logout()
    member(client, "operator")
    html = client.get(reverse("sync:run", args=[run.pk])).content.decode()
    assert 'id="run-stop"' in html
    response = client.post(reverse("sync:run_cancel", args=[run.pk]), {"back": "run"})
    assert response["Location"] == reverse("sync:run", args=[run.pk])
    assert SyncRun.objects.get(pk=run.pk).cancel_requested


def test_a_finished_run_has_no_stop(client, run):
    RunLog(run).finish(SyncRun.Status.SUCCEEDED)
    member(client, "operator")
    html = client.get(reverse("sync:run", args=[run.pk])).content.decode()
    assert 'id="run-stop"' not in html
    assert "The run has ended." in html


async def read_stream(async_client, url, headers=None):
    response = await async_client.get(url, headers=headers or {})
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    chunks = []
    async for chunk in response.streaming_content:
        chunks.append(chunk.decode())
    return "".join(chunks)


@pytest.mark.django_db(transaction=True)
def test_the_stream_sends_every_line_with_its_id_and_ends(async_client, run):
    log = RunLog(run)
    log.say("one")
    log.say("two")
    log.finish(SyncRun.Status.SUCCEEDED)
    user = User.objects.create_superuser("root", password="pw")

    async def go():
        await async_client.aforce_login(user)
        url = reverse("sync:run_stream", args=[run.pk])
        whole = await read_stream(async_client, url)
        resumed = await read_stream(async_client, url, headers={"Last-Event-ID": "2"})
        return whole, resumed

    whole, resumed = asyncio.run(go())
    assert whole.startswith("retry: 2000\n\n")
    assert "id: 1\nevent: line\ndata: " in whole
    assert '"message": "one"' in whole
    assert "id: 3\nevent: line" in whole
    assert whole.rstrip().splitlines()[-2] == "event: end"
    assert '"status": "succeeded"' in whole.rstrip().splitlines()[-1]
    assert "id: 1\n" not in resumed
    assert "id: 2\n" not in resumed
    assert "id: 3\n" in resumed


@pytest.mark.django_db(transaction=True)
def test_the_stream_reads_its_lines_and_end_in_the_readers_language(async_client, run):
    log = RunLog(run)
    log.say(gettext_lazy("Order %(order)s: not found on the platform."), order="A-1")
    log.add("pushed", 2)
    log.finish(SyncRun.Status.SUCCEEDED)
    user = User.objects.create_superuser("root", password="pw")

    async def go():
        await async_client.aforce_login(user)
        url = reverse("sync:run_stream", args=[run.pk])
        return await read_stream(async_client, url, headers={"accept-language": "ja"})

    with translation.override("en"):
        whole = asyncio.run(go())
    assert '"message": "注文 A-1：プラットフォームに見つかりません。"' in whole
    assert '"message": "成功（2 件のSKUをプッシュ）"' in whole
    assert '"counts_text": "2 件のSKUをプッシュ"' in whole.rstrip().splitlines()[-1]


@pytest.mark.django_db(transaction=True)
def test_the_stream_follows_a_running_run_until_it_ends(async_client, run, monkeypatch):
    monkeypatch.setattr("sync.live.POLL_SECONDS", 0.05)
    monkeypatch.setattr("sync.live.HEARTBEAT_SECONDS", 0.0)
    user = User.objects.create_superuser("root", password="pw")
    from asgiref.sync import sync_to_async

    async def go():
        await async_client.aforce_login(user)
        response = await async_client.get(reverse("sync:run_stream", args=[run.pk]))
        stream = response.streaming_content.__aiter__()
        seen = [(await stream.__anext__()).decode()]  # retry
        seen.append((await stream.__anext__()).decode())  # a heartbeat while nothing happens
        await sync_to_async(lambda: RunLog(SyncRun.objects.get(pk=run.pk)).say("now"))()
        seen.append((await stream.__anext__()).decode())
        await sync_to_async(
            lambda: RunLog(SyncRun.objects.get(pk=run.pk)).finish(SyncRun.Status.CANCELLED)
        )()
        async for chunk in stream:
            seen.append(chunk.decode())
        return seen

    seen = asyncio.run(go())
    assert seen[1] == ": still running\n\n"
    assert '"message": "now"' in seen[2]
    assert any("event: end" in chunk and "cancelled" in chunk for chunk in seen)


def test_a_stop_written_while_the_run_saves_its_counts_is_kept(run):
    log = RunLog(run)
    SyncRun.objects.filter(pk=run.pk).update(cancel_requested=True)  # the STOP button
    log.add("stored", 5)
    log.save()
    assert log.cancelled()
    assert SyncRun.objects.get(pk=run.pk).counts == {"stored": 5}
