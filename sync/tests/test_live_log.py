"""The live log of every run: lines as events, the run page, JSON after N, the SSE stream."""

import asyncio

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

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
