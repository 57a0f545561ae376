"""In Chromium, against the app served by uvicorn (ASGI, as `make demo` serves it): start an
offers read of an eBay store, watch its live log stream in (Server-Sent Events), press STOP,
see the run stopped with its counts, start again and see it resume where it stopped."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User

from ebay.catalog import catalog_run
from ebay.models import EbayListing
from ebay.tasks import catalog_run_task
from inventory_site.permissions import groups_ensure
from inventory_site.tests.browser import CHROMIUM
from sync.models import SyncRun

SCREENSHOTS = settings.BASE_DIR / "test-output" / "screenshots"
PASSWORD = "a-long-browser-password"
STORE = "eb-a"
SKUS = 40

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def asgi_url(transactional_db) -> Iterator[str]:
    """The project's ASGI application under uvicorn in a thread, on a free port (static
    files served as in development)."""
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from inventory_site.asgi import application

    config = uvicorn.Config(
        ASGIStaticFilesHandler(application),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def read_in_background(monkeypatch):
    """The run a page starts goes to a worker (here a thread), as django-q2 does."""
    threads: list[threading.Thread] = []

    def queue(name, *args, **kwargs):
        assert name == "ebay.tasks.catalog_run_task"
        thread = threading.Thread(target=catalog_run_task, args=args, daemon=True)
        thread.start()
        threads.append(thread)

    monkeypatch.setattr("ebay.catalog.async_task", queue)
    yield threads
    for thread in threads:
        thread.join(timeout=30)


def test_an_offers_read_streams_live_stops_and_resumes(
    ebay_world, asgi_url, browser, read_in_background, settings
):
    for n in range(SKUS):
        ebay_world.item_add(STORE, f"Many-{n:03d}", n)
    catalog_run(store_id=STORE, part="inventory")
    # Slow enough to watch: 4 SKUs a second.
    settings.EBAY_RATE_LIMITS = {"offer.list": 4.0}
    groups_ensure()
    user = User.objects.create_user("olivia", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="operator"))
    context = browser.new_context(base_url=asgi_url, locale="en-US")
    context.set_default_timeout(20_000)
    tab = context.new_page()
    json_reads: list[str] = []
    tab.on("request", lambda r: json_reads.append(r.url) if "events.json" in r.url else None)
    tab.goto("/admin/login/?next=/")
    tab.fill("#id_username", "olivia")
    tab.fill("#id_password", PASSWORD)
    tab.click("input[type=submit]")
    tab.wait_for_url(re.compile(r"/dashboard/$"))

    tab.goto(f"/dashboard/stores/{STORE}/")
    tab.click("input[value='Read eBay offers']")
    tab.wait_for_url(re.compile(r"/dashboard/runs/\d+/$"))
    first = int(re.search(r"/runs/(\d+)/$", tab.url).group(1))
    # Lines arrive while the page stays open: "Offers to read for N SKUs", then more.
    tab.wait_for_selector("#run-log .line >> text=Offers to read for")
    # A progress line written after the page opened reaches it.
    tab.wait_for_selector("#run-log .line >> text=10 of 43 SKUs read")
    tab.screenshot(path=str(SCREENSHOTS / "ebay_offers_live.png"), full_page=True)
    tab.wait_for_function(
        f"() => fetch('/dashboard/runs/{first}.json')"
        ".then(x => x.json()).then(d => (d.counts.stored || 0) >= 5)"
    )
    tab.click("#run-stop input[type=submit]")
    tab.wait_for_url(re.compile(rf"/dashboard/runs/{first}/$"))
    tab.wait_for_selector("#run-state[data-status=cancelled]")
    stopped = SyncRun.objects.get(pk=first)
    assert stopped.status == SyncRun.Status.CANCELLED
    done_first = stopped.counts["stored"]
    assert 5 <= done_first < SKUS + 3
    assert f"{done_first} records saved" in tab.inner_text("#run-progress")
    assert "Stopped by staff between SKUs" in tab.inner_text("#run-log")
    assert not tab.query_selector("#run-stop")
    tab.screenshot(path=str(SCREENSHOTS / "ebay_offers_stopped.png"), full_page=True)

    tab.goto(f"/dashboard/stores/{STORE}/")
    tab.click("input[value='Read eBay offers']")
    tab.wait_for_url(re.compile(r"/dashboard/runs/\d+/$"))
    tab.wait_for_selector("#run-state[data-status=succeeded]", timeout=30_000)
    log = tab.inner_text("#run-log")
    assert f"Going on where run {first} stopped." in log
    second = SyncRun.objects.exclude(pk=first).get(
        kind=SyncRun.Kind.CATALOG, details__part="offers"
    )
    assert second.counts["stored"] == SKUS + 3  # the first run's and the rest, none twice
    assert EbayListing.objects.filter(store_id=STORE, offers_synced_at__isnull=False).count() == (
        SKUS + 3
    )
    # The log streamed: the page never fell back to reading the JSON.
    assert json_reads == []
    tab.screenshot(path=str(SCREENSHOTS / "ebay_offers_resumed.png"), full_page=True)
    context.close()
