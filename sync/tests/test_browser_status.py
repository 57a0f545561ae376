"""The live, actionable status pages and their pictures, in Chromium, in English and in
Japanese: the dashboard's health cards and their links, a store's run table that follows a
run to its end, a SKU sync that names the SKUs that differ, a refused push read for a
merchant and retried, "reconcile now", the oversell report, the audit log and the stock
chart. Every page is kept as a screenshot under test-output/screenshots/status/.

Expected words come from the catalogue of the page's language (``say``), so the Japanese
run checks the Japanese text wherever a translation exists."""

import datetime as dt
import itertools
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from events.actors import Actor
from events.models import AuditLog, EventType, PendingPush
from events.services import event_record, stock_adjust
from inventory_site.permissions import groups_ensure
from inventory_site.tests.browser import CHROMIUM
from rakuten.models import RakutenBinding
from rakuten.tests.conftest import Engine, sandbox, sandbox_server  # noqa: F401
from skus.services import sku_create
from sync.error_messages import explain
from sync.models import Order, SyncRun
from sync.orders import orders_poll
from sync.push import push_run
from sync.run_text import counts_sentence

SCREENSHOTS = settings.BASE_DIR / "test-output" / "screenshots" / "status"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)
PASSWORD = "a-long-browser-password"
LOCALES = {"en": "en-US", "ja": "ja-JP"}
LONG_VARIANT = "Ｔシャツ赤Ｍサイズ長袖ロング"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture
def shop(sandbox_server, transactional_db):  # noqa: F811
    from sync.ratelimit import limiter

    limiter.reset()
    groups_ensure()
    return Engine(sandbox_server.sandbox, sandbox_server.url)


@pytest.fixture(params=sorted(LOCALES))
def language(request):
    return request.param


def login(browser, live_server, language, group="operator"):
    username = f"{group}-{language}"
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    context = browser.new_context(
        base_url=live_server.url, locale=LOCALES[language], viewport={"width": 1400, "height": 900}
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.goto("/admin/login/?next=/")
    tab.fill("#id_username", username)
    tab.fill("#id_password", PASSWORD)
    tab.click("input[type=submit]")
    tab.wait_for_url(re.compile(r"/dashboard/$"))
    assert tab.get_attribute("html", "lang") == language
    return context, tab


@pytest.fixture
def page(browser, live_server, shop, language):
    context, tab = login(browser, live_server, language)
    yield tab
    context.close()


def say(language, text, *args, **values):
    """``text`` in ``language`` (from the catalogue; English where it has none yet)."""
    with translation.override(language):
        words = ngettext(text, args[0], values["count"]) if args else gettext(text)
        return words % values if values else words


def in_language(language, function, *args, **kwargs):
    with translation.override(language):
        return function(*args, **kwargs)


def snap(tab, name, language):
    tab.screenshot(path=str(SCREENSHOTS / f"{name}_{language}.png"), full_page=True)


def refused_push(store_id="store-b"):
    """A push the store refuses: the registration's variant id is longer than RMS takes
    (14 characters fit the column; their 42 bytes are more than RMS's 32)."""
    RakutenBinding.objects.filter(store_id=store_id, variant_id="Tshirt-RED-M").update(
        variant_id=LONG_VARIANT
    )
    stock_adjust(sku_id="tshirt-red-m", quantity=-1, reason="count", actor=Actor.cli("test"))
    push_run(store_id=store_id)
    return PendingPush.objects.get(store_id=store_id, sku_id="tshirt-red-m", status="failed")


def test_the_dashboard_shows_health_at_a_glance_and_links_every_figure(page, shop, language):
    shop.order("store-a", units=2)
    orders_poll(store_id="store-a")
    push_run(store_id="store-a")
    refused_push("store-b")
    page.reload()
    # store-a: its order and its pushes of this hour are drawn.
    card = page.locator("#card-store-a")
    assert card.locator("svg.hourly.orders rect").count() == 1
    assert card.locator(".orders-24h .figure").inner_text() == "1"
    assert int(card.locator(".pushes-24h .figure").inner_text()) >= 1
    assert (
        card.locator("svg.hourly.pushes rect title")
        .first.text_content()
        .endswith(
            f"{say(language, 'SKUs pushed')}: {card.locator('.pushes-24h .figure').inner_text()}"
        )
    )
    # store-b: failing, and why.
    badge = page.locator("#card-store-b .health-badge").inner_text()
    assert badge == say(language, "failing")
    assert say(language, "pushes failed") in page.locator("#card-store-b .problems").inner_text()
    snap(page, "dashboard", language)
    # Not tested yet: the test is offered on the spot.
    offered = page.locator(".auth-test-now").count()
    assert offered == 3
    page.locator("#health-store-c .auth-test-now").click()
    page.wait_for_selector(".messagelist .success")
    assert page.locator(".auth-test-now").count() == offered - 1
    assert page.locator("#health-store-c .credentials").inner_text().strip() != say(
        language, "not tested"
    )
    # The failed figure opens the failed pushes of that store.
    page.locator("#health-store-b td.failed a").click()
    page.wait_for_url(re.compile(r"/reports/failed/\?store=store-b$"))
    assert page.locator("#failed-pushes tbody tr.failed-push").count() == 1
    snap(page, "dashboard_to_failed", language)


def test_a_stores_run_table_folds_quiet_pushes_and_follows_a_run(page, shop, language):
    now = timezone.now()
    for minute in range(12, 7, -1):
        SyncRun.objects.create(
            store_id="store-a",
            kind="push",
            status="succeeded",
            started_at=now - dt.timedelta(minutes=minute),
            finished_at=now - dt.timedelta(minutes=minute),
            counts={"held_test_mode": 3},
        )
    SyncRun.objects.create(
        store_id="store-a",
        kind="push",
        status="partial",
        started_at=now - dt.timedelta(minutes=6),
        finished_at=now - dt.timedelta(minutes=6),
        counts={"pushed": 2, "failed": 1},
    )
    running = SyncRun.objects.create(
        store_id="store-a", kind="poll", counts={"found": 1}, details={"total": 4}
    )
    page.goto("/dashboard/stores/store-a/")
    fold = page.locator("#runs tr.idle-fold")
    assert fold.count() == 1
    assert re.search(r"(?<!\d)5(?!\d)", fold.locator("a").inner_text())  # 5 runs, one line
    row = page.locator(f"#run-row-{running.pk}")
    assert row.locator(".run-counts").inner_text() == in_language(
        language, counts_sentence, "poll", {"found": 1}
    )
    partial = in_language(language, counts_sentence, "push", {"pushed": 2, "failed": 1})
    assert partial in page.locator("#runs").inner_text()
    headers = page.locator("#runs thead").text_content()
    assert say(language, "What it did") in headers
    # The run ends while the page is open: its row says so by itself.
    SyncRun.objects.filter(pk=running.pk).update(
        status="succeeded", finished_at=timezone.now(), counts={"found": 3, "events": 2}
    )
    done = in_language(language, counts_sentence, "poll", {"found": 3, "events": 2})
    page.wait_for_function(
        "([id, text]) => document.querySelector(`#run-row-${id} .run-counts`).textContent === text",
        arg=[running.pk, done],
    )
    assert row.locator(".run-status").inner_text() == say(language, "succeeded")
    assert row.locator("progress").count() == 0
    snap(page, "store_runs", language)


def test_a_sku_sync_names_the_skus_that_differ_and_the_chart_steps(page, shop, language):
    stock_adjust(sku_id="tshirt-red-m", quantity=-5, reason="count", actor=Actor.cli("test"))
    page.goto("/dashboard/stores/store-a/")
    page.click("#sku-sync")
    page.wait_for_selector(".messagelist .info")
    run = SyncRun.objects.get(kind="sku_sync", store_id="store-a")
    assert run.status == "succeeded"
    page.goto(f"/dashboard/runs/{run.pk}/")
    differ = page.locator("#run-differ tbody tr", has_text="tshirt-red-m")
    assert differ.locator("td").all_inner_texts() == ["tshirt-red-m", "TRM", "25", "20"]
    assert page.locator("#run-progress .run-counts").inner_text() == in_language(
        language, counts_sentence, "sku_sync", run.counts
    )
    assert "Asia/Tokyo" in page.inner_text("#content-main")
    # Its log in the page's language: the line that names the SKU, and the last line.
    differs = run.events.filter(template__contains="(not overwritten)").first()
    last = run.events.latest("seq")
    log = page.inner_text("#run-log")
    for line in (differs, last):
        shown = in_language(language, lambda event: event.text, line)
        assert shown in log
        assert (shown == line.message) == (language == "en" and line != last)
    snap(page, "sku_sync_run", language)
    # The SKU's chart: steps, a point per event with what it was, gridlines.
    differ.locator("a").click()
    page.wait_for_url(re.compile(r"/skus/tshirt-red-m/$"))
    chart = page.locator("#stock-chart")
    assert chart.locator("circle").count() == 2
    tooltip = chart.locator("circle title").last.text_content()
    assert say(language, "manual adjustment") in tooltip
    assert "-5 → 20" in tooltip
    points = [
        tuple(map(float, pair.split(",")))
        for pair in chart.locator("polyline").get_attribute("points").split()
    ]
    assert all(a[0] == b[0] or a[1] == b[1] for a, b in itertools.pairwise(points))
    assert chart.locator(".grid line").count() >= 6
    box = chart.bounding_box()
    assert box["width"] > 600  # the page's width, not a fixed 660 px
    chart.locator("circle").last.hover()
    snap(page, "sku_chart", language)
    page.set_viewport_size({"width": 480, "height": 900})
    assert page.locator("#stock-chart").bounding_box()["width"] < 480
    # A SKU with one event so far: a level line to now, and a caption that says so.
    sku_create(sku_id="Lone-1", sku_name="Lone", initial_stock=4, actor=Actor.cli("test"))
    page.goto("/skus/lone-1/")
    assert page.locator("#stock-chart circle").count() == 1
    caption = page.locator("figure.stock-chart figcaption").inner_text()
    one = say(language, "Only one event so far: the stock has been %(stock)s since %(since)s.")
    assert caption.startswith(one.split("%(")[0])
    assert "4" in caption
    snap(page, "sku_chart_one_event", language)


def test_a_refused_push_is_read_for_a_merchant_and_retried(page, shop, language):
    row = refused_push("store-b")
    binding = RakutenBinding.objects.get(store_id="store-b", variant_id=LONG_VARIANT)
    page.goto("/reports/failed/")
    line = page.locator(f"#failed-push-{row.pk}")
    expected = in_language(
        language,
        explain,
        row.last_error,
        store_id="store-b",
        sku_id="tshirt-red-m",
        registration_id=binding.registration_id,
    )
    assert expected.kind == "too_long"
    assert line.locator(".error-message").inner_text() == expected.message
    assert line.locator(".error-action").inner_text().startswith(expected.action)
    assert "IE0004" in line.locator(".raw-error").inner_text()  # the platform's words
    assert line.locator("td.attempts").inner_text() == "1"
    snap(page, "failed_push", language)
    # Retried, it fails again (the registration is still wrong): the row says so.
    line.locator("input[type=submit]").click()
    page.wait_for_selector(".messagelist .success")
    assert say(language, "%(count)d will be retried now.", count=1) in page.inner_text(
        ".messagelist"
    )
    again = page.locator(f"#failed-push-{row.pk} .failed-again")
    assert again.count() == 1
    assert f"operator-{language}" in again.inner_text()
    snap(page, "failed_push_again", language)
    # Its link opens the registration to fix.
    page.locator(f"#failed-push-{row.pk} a.fix-link").click()
    page.wait_for_url(re.compile(r"/admin/stores/storesku/\d+/change/$"))
    assert LONG_VARIANT in page.content()


def test_reconcile_now_and_the_audit_log_say_it_in_words(page, shop, language):
    stock_adjust(sku_id="tshirt-red-l", quantity=-2, reason="count", actor=Actor.cli("test"))
    page.goto("/reports/reconcile/")
    section = page.locator("#reconcile-store-a")
    assert say(language, "never reconciled") in section.inner_text()
    section.locator(".reconcile-now input[type=submit]").click()
    page.wait_for_selector(".messagelist .info")
    section = page.locator("#reconcile-store-a")
    assert section.locator("table.store-drift tbody tr td").first.inner_text() == "tshirt-red-l"
    assert section.locator("tbody tr td").nth(3).inner_text() == "10"
    snap(page, "reconcile_now", language)
    entry = AuditLog.objects.get(action="store.reconcile")
    assert entry.user == f"operator-{language}"
    page.goto("/reports/audit/")
    first = page.locator("#audit-log tbody tr").first
    assert f"{say(language, 'Store')}: store-a" in first.locator(".detail-lines").inner_text()
    assert "Asia/Tokyo" in page.locator("#audit-log thead").text_content()
    local = timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M")
    assert first.locator("td.time").inner_text().startswith(local)
    snap(page, "audit_log", language)


def test_the_oversell_report_links_and_shows_cancelled_orders_resolved(page, shop, language):
    Order.objects.create(store_id="store-a", order_number="111-1", platform_status="900")
    for quantity, event_type in ((-30, EventType.ORDER_RECEIVED), (30, EventType.ORDER_CANCELLED)):
        event_record(
            sku_id="towel-navy",
            quantity=quantity,
            event_type=event_type,
            source="api",
            operator="system",
            store_id="store-a",
            order_id="111-1",
        )
    event_record(
        sku_id="tshirt-red-l",
        quantity=-20,
        event_type=EventType.ORDER_RECEIVED,
        source="api",
        operator="system",
        store_id="store-b",
        order_id="222-2",
    )
    page.goto("/dashboard/")
    page.locator("#oversold a").click()
    page.wait_for_url(re.compile(r"/reports/oversell/$"))
    resolved = page.locator("#oversell tr.resolved")
    assert resolved.count() == 1
    assert resolved.locator(".oversell-state").inner_text() == say(
        language, "resolved: order cancelled"
    )
    assert page.locator("#oversell tr.open .oversell-state").inner_text() == say(language, "open")
    snap(page, "oversells", language)
    resolved.locator("a.order-link").click()
    page.wait_for_url(re.compile(r"/admin/sync/order/\?q=111-1"))
    assert "111-1" in page.locator("#result_list").inner_text()
    page.go_back()
    page.locator("#oversell tr.open a.sku-link").click()
    page.wait_for_url(re.compile(r"/skus/tshirt-red-l/$"))
    page.goto("/dashboard/")
    page.locator("#health-store-b td.oversold a").click()
    page.wait_for_url(re.compile(r"/reports/oversell/\?store=store-b$"))
    assert page.locator("#oversell tbody tr").count() == 1
