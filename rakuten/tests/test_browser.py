"""The staff pages in a real browser: Playwright drives Debian's Chromium against a live
server whose stores talk to the RMS sandbox. Each page is kept as a screenshot under
test-output/screenshots/."""

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User

from events.models import InventoryEvent, PendingPush
from inventory_site.permissions import groups_ensure
from inventory_site.tests.browser import CHROMIUM
from rakuten.tests.conftest import Engine
from skus.models import Sku

SCREENSHOTS = settings.BASE_DIR / "test-output" / "screenshots"
PASSWORD = "a-long-browser-password"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture
def shop(sandbox_server, transactional_db):
    from sync.ratelimit import limiter

    limiter.reset()
    groups_ensure()
    return Engine(sandbox_server.sandbox, sandbox_server.url)


@pytest.fixture
def page(browser, live_server, shop):
    user = User.objects.create_user("olivia", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="operator"))
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.goto("/admin/login/?next=/")
    tab.fill("#id_username", "olivia")
    tab.fill("#id_password", PASSWORD)
    tab.click("input[type=submit]")
    tab.wait_for_url(re.compile(r"/dashboard/$"))
    yield tab
    context.close()


def snap(tab, name):
    tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_adjusting_stock_moves_the_timeline_and_the_chart(page):
    snap(page, "dashboard")
    page.click("#staff-nav >> text=SKUs")
    page.fill("input[name=q]", "tshirt-red-m")
    page.click("#sku-filter input[type=submit]")
    page.click("#sku-list >> text=Tshirt-RED-M")
    chart_before = page.get_attribute("#stock-chart polyline", "points")
    assert page.inner_text("#available strong") == "25"
    page.fill("#id_quantity", "-3")
    page.fill("#id_reason", "damaged in the warehouse")
    page.click("#adjust-form input[type=submit]")
    page.wait_for_selector("text=Stock adjusted.")
    assert page.inner_text("#available strong") == "22"
    first = page.locator("#timeline tbody tr").first.inner_text()
    assert "manual adjustment" in first
    assert "-3" in first
    assert "damaged in the warehouse" in first
    assert page.get_attribute("#stock-chart polyline", "points") != chart_before
    # Taking more than there is: refused, said so, nothing changes.
    page.fill("#id_quantity", "-500")
    page.fill("#id_reason", "typo")
    page.click("#adjust-form input[type=submit]")
    page.wait_for_selector(".messagelist .error")
    assert "does not allow oversell" in page.inner_text(".messagelist")
    assert page.inner_text("#available strong") == "22"
    assert InventoryEvent.objects.filter(sku_id="tshirt-red-m", reason="typo").count() == 0
    snap(page, "sku_detail")


def test_a_csv_is_previewed_then_confirmed_and_followed_live(page):
    page.click("#nav-import")
    page.select_option("#id_store", "store-a")
    page.select_option("#id_import_mode", "reset_stock")
    page.set_input_files(
        "#id_file",
        files=[
            {
                "name": "stock.csv",
                "mimeType": "text/csv",
                "buffer": b"sku,name,quantity\nTowel-NAVY,<b>Towel</b> navy,9\nMug-01,Mug,4\n",
            }
        ],
    )
    snap(page, "import_upload")
    page.click("#upload-form input[type=submit]")
    page.wait_for_selector("#preview-rows")
    rows = page.inner_text("#preview-rows")
    assert "<b>Towel</b> navy" in rows  # shown as text, never as markup
    assert not Sku.objects.filter(pk="mug-01").exists()
    snap(page, "import_preview")
    page.click("#confirm-form input[type=submit]")
    page.wait_for_selector("#import-progress.finished")
    assert "succeeded" in page.inner_text("#import-progress .progress-text")
    assert Sku.objects.get(pk="towel-navy").snapshot.internal_available == 9
    assert Sku.objects.get(pk="mug-01").snapshot.internal_available == 4
    snap(page, "import_done")


def test_a_manual_poll_brings_the_new_order_into_the_timeline(page, shop):
    order = shop.order("store-a", units=2)
    page.click("#staff-nav >> text=Stores")
    page.click("#stores >> text=store-a")
    page.click("#poll-now")
    page.wait_for_selector("text=Order poll started for store-a.")
    assert "order poll" in page.inner_text("#runs")
    snap(page, "store")
    page.goto("/skus/tshirt-red-m/")
    first = page.locator("#timeline tbody tr").first.inner_text()
    assert "order received" in first
    assert "-2" in first
    number = order if isinstance(order, str) else order.order_number
    assert number in first
    assert page.inner_text("#available strong") == "23"


def test_a_failed_push_is_retried_from_its_page(page, shop):
    row = PendingPush.objects.create(
        store_id="store-b",
        sku_id="tshirt-red-m",
        status="failed",
        attempts=8,
        last_error="RMS answered 500",
    )
    page.click("#staff-nav >> text=Failed syncs")
    assert "RMS answered 500" in page.inner_text("#failed-pushes")
    snap(page, "failed_syncs")
    page.click("#failed-pushes input[value=Retry]")
    page.wait_for_selector("text=1 will be retried now.")
    assert "RMS answered 500" not in page.inner_text("#failed-pushes")
    assert not PendingPush.objects.filter(pk=row.pk, status="failed").exists()
    assert shop.shown("store-b") == 25  # pushed at once, not in a minute


def test_every_report_page_renders_for_staff(page):
    for name, url, marker in [
        ("stores", "/dashboard/stores/", "#stores"),
        ("sku_list", "/skus/", "#sku-list"),
        ("audit_log", "/reports/audit/", "#audit-log"),
        ("oversells", "/reports/oversell/", "#oversell"),
        ("reconciliation", "/reports/reconcile/", "#ledger-no-check"),
    ]:
        page.goto(url)
        page.wait_for_selector(marker)
        snap(page, name)
    assert "logged in" in page.goto("/reports/audit/").text()


def test_the_language_switch_turns_the_pages_japanese_and_chinese(page):
    page.select_option("#language-select", "ja")
    page.wait_for_selector("#staff-nav >> text=ダッシュボード")
    assert "在庫数" in page.goto("/skus/").text()
    snap(page, "sku_list_ja")
    page.select_option("#language-select", "zh-hans")
    page.wait_for_selector("#staff-nav >> text=仪表板")
    page.goto("/dashboard/")
    snap(page, "dashboard_zh_hans")


def test_the_store_form_shows_the_chosen_platforms_credentials_only(browser, live_server, shop):
    User.objects.create_superuser("ada", password=PASSWORD)
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.goto("/admin/login/?next=/admin/stores/store/add/")
    tab.fill("#id_username", "ada")
    tab.fill("#id_password", PASSWORD)
    tab.click("input[type=submit]")
    tab.wait_for_selector("#id_platform_type")
    assert tab.is_visible("#id_rakuten__service_secret")
    assert not tab.is_visible("#id_futureshop__client_secret")
    tab.select_option("#id_platform_type", "futureshop")
    assert tab.is_visible("#id_futureshop__client_secret")
    assert not tab.is_visible("#id_rakuten__service_secret")
    assert tab.is_disabled("#id_rakuten__service_secret")  # never sent with the form
    snap(tab, "store_add_futureshop")
    context.close()
