"""A store whose platform does not answer (the demo's stores pointed at a port where no sandbox
listens): its polls and pushes fail, and say where they could not connect and why."""

from __future__ import annotations

import datetime as dt
import io
import socket
import threading

import pytest
from django.core.management import call_command
from django.utils import timezone

from ebay.sandbox import demo as eb_demo
from ebay.sandbox.server import SandboxServer as EbServer
from ebay.sandbox.state import Sandbox as EbSandbox
from events.models import PendingPush
from inventory_site.tests.processes import free_port
from rakuten.client import RmsClient
from rakuten.errors import RmsServerError
from sync.models import PollState, RunEvent, SyncRun
from sync.orders import orders_poll
from sync.push import push_run
from sync.ratelimit import limiter

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_url() -> str:
    """An address on loopback where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


def _refused(url: str) -> str:
    return f"could not connect to {url}/: connection refused"


def _load(url: str, ebay_url: str | None = None) -> None:
    limiter.reset()
    call_command(
        "load_demo_data",
        password="pw-for-the-test",
        rakuten_url=url,
        futureshop_url=url,
        ebay_url=ebay_url or url,
        stdout=io.StringIO(),
    )
    # Not the store's first poll: that one searches an empty window from "now".
    for store_id in ("demo-tokyo", "demo-futureshop", "demo-ebay"):
        PollState.objects.update_or_create(
            store_id=store_id,
            defaults={"origin": timezone.now() - dt.timedelta(hours=1)},
        )


def _assert_failed_with(run: SyncRun, reason: str) -> None:
    assert run.status == SyncRun.Status.FAILED
    assert reason in run.error
    last = RunEvent.objects.filter(run=run).order_by("-seq").first()
    assert last is not None
    assert reason in last.message  # the live log says it too


@pytest.mark.parametrize(
    ("store_id", "endpoint"),
    [("demo-tokyo", "order.search"), ("demo-futureshop", "token")],
)
def test_a_poll_of_a_platform_nobody_answers_for_fails_and_says_where(
    closed_url, store_id, endpoint
):
    _load(closed_url)
    run = orders_poll(store_id=store_id)
    _assert_failed_with(run, f"{endpoint}: {_refused(closed_url)}")


@pytest.mark.parametrize("store_id", ["demo-tokyo", "demo-futureshop"])
def test_a_push_to_a_platform_nobody_answers_for_fails_and_keeps_the_reason(closed_url, store_id):
    _load(closed_url)
    run = push_run(store_id=store_id)
    _assert_failed_with(run, _refused(closed_url))
    rows = PendingPush.objects.filter(store_id=store_id)
    assert rows.exists()
    assert all(_refused(closed_url) in row.last_error for row in rows)
    assert not rows.exclude(status=PendingPush.Status.PENDING).exists()  # tried again later


def test_an_ebay_store_whose_sandbox_stopped_says_where_it_could_not_connect():
    sandbox = EbSandbox()
    eb_demo.demo_load(sandbox)
    server = EbServer(sandbox).start()
    try:
        _load("http://127.0.0.1:9", ebay_url=server.url)
        call_command("ebay_demo_connect", url=server.url, stdout=io.StringIO())
    finally:
        server.stop()
    poll = orders_poll(store_id="demo-ebay")
    _assert_failed_with(poll, _refused(server.url))
    push = push_run(store_id="demo-ebay")
    _assert_failed_with(push, _refused(server.url))


def test_the_reason_never_shows_the_licence_key_of_the_url(closed_url):
    client = RmsClient(
        service_secret="SP1_secret",
        license_key="SL1_do-not-show",
        base_url=f"{closed_url}/es/",
        max_retries=0,
    )
    with pytest.raises(RmsServerError) as caught:
        client.license_expiry()  # the key travels in this call's query string
    assert str(caught.value) == f"license.expiry: {_refused(closed_url)}"
    assert "do-not-show" not in str(caught.value)


def test_a_connection_dropped_once_connected_says_so():
    """A server that accepts and closes without answering: the reason is the socket's."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"

        def hang_up() -> None:
            connection, _ = listener.accept()
            connection.recv(1024)
            connection.close()

        threading.Thread(target=hang_up, daemon=True).start()
        client = RmsClient(service_secret="s", license_key="k", base_url=url, max_retries=0)
        with pytest.raises(RmsServerError) as caught:
            client.license_expiry()
    message = str(caught.value)
    assert message.startswith("license.expiry: connection failed: ")
    assert message.endswith(f"({url}/)")
    assert "ConnectionError" not in message  # the socket's own words, not an exception name


def test_a_first_poll_of_an_unreachable_store_fails_instead_of_succeeding(closed_url):
    """The first poll searches an empty window (from "now"): futureshop's and eBay's
    adapters make no search for it, so the engine asks the platform (its auth test)."""
    limiter.reset()
    call_command(
        "load_demo_data",
        password="pw-for-the-test",
        rakuten_url=closed_url,
        futureshop_url=closed_url,
        ebay_url=closed_url,
        stdout=io.StringIO(),
    )
    PollState.objects.all().delete()
    run = orders_poll(store_id="demo-futureshop")
    _assert_failed_with(run, "could not connect")
    assert not PollState.objects.filter(store_id="demo-futureshop", last_poll_at__isnull=False)


def test_test_credentials_reports_each_store_and_fails_when_one_is_refused(closed_url):
    from django.core.management.base import CommandError

    from stores.models import Store

    _load(closed_url)
    out = io.StringIO()
    with pytest.raises(CommandError, match="Credentials refused by: demo-tokyo"):
        call_command("test_credentials", store="demo-tokyo", stdout=out)
    assert "demo-tokyo: refused: " in out.getvalue()
    assert "could not connect" in out.getvalue()
    store = Store.objects.get(pk="demo-tokyo")
    assert store.last_auth_test_at is not None
    assert "could not connect" in store.last_auth_error
