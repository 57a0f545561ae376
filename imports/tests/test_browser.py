"""The import flow in Chromium, in English and in Japanese: upload, a confirm refused for
its error rows (the form stays, with why), a confirm that leaves them out followed live
until the page shows what was applied, then the export downloaded and uploaded again as
"no change". Each step is kept as a screenshot under test-output/screenshots/."""

import re

import pytest
from django.contrib.auth.models import Group, User
from django.utils import translation
from django.utils.translation import gettext, ngettext

from events.models import InventorySnapshot
from imports.models import UploadedFile
from imports.services import import_confirm_run
from inventory_site.permissions import groups_ensure
from inventory_site.tests.browser import CHROMIUM, SCREENSHOTS
from rakuten.tests.test_browser import PASSWORD
from skus.tests.factories import SkuFactory
from stores.models import StoreSku
from stores.tests.factories import StoreFactory
from sync.models import SyncRun

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]

STOCK_FILE = (
    "sku,name,quantity,販売価格\n"
    "Known-1,Mug,7,1200\n"
    "New-1,<b>Cup</b>,3,900\n"
    "=Odd-1,Odd one,2,100\n"
    "Bad-1,,x,1\n"
).encode()


@pytest.fixture
def queued(monkeypatch):
    """Confirms wait here instead of running inline, so the page is seen following one."""
    started: list[int] = []
    monkeypatch.setattr("imports.services.async_task", lambda func, run_id: started.append(run_id))
    return started


def log_in(browser, live_server, locale):
    groups_ensure()
    user = User.objects.create_user("olivia", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="operator"))
    context = browser.new_context(base_url=live_server.url, locale=locale, accept_downloads=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.goto("/admin/login/?next=/imports/")
    tab.fill("#id_username", "olivia")
    tab.fill("#id_password", PASSWORD)
    tab.click("input[type=submit]")
    tab.wait_for_url(re.compile(r"/imports/$"))
    return context, tab


def snap(tab, name):
    tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def upload(tab, content, mode="reset_stock"):
    tab.select_option("#id_store", "shop1")
    tab.select_option("#id_import_mode", mode)
    tab.set_input_files(
        "#id_file", files=[{"name": "stock.csv", "mimeType": "text/csv", "buffer": content}]
    )
    tab.click("#upload-form input[type=submit]")
    tab.wait_for_selector("#preview-rows")


@pytest.mark.parametrize(("locale", "language"), [("en-US", "en"), ("ja-JP", "ja")])
def test_the_import_flow(browser, live_server, transactional_db, queued, locale, language):
    StoreFactory(store_id="shop1")
    SkuFactory(sku_id="Known-1", sku_name="Mug", initial_stock=10)
    with translation.override(language):
        refused_text = ngettext(
            "%(count)d row has an error: fix the file, or tick “leave out the rows with errors”.",
            "%(count)d rows have errors: fix the file, or tick “leave out the rows with errors”.",
            1,
        ) % {"count": 1}
        confirmed = gettext("confirmed")
        pending = gettext("pending")
        confirm_label = gettext("Confirm and apply")
        left_out = gettext("left out (error)")
    context, tab = log_in(browser, live_server, locale)
    try:
        assert tab.get_attribute("html", "lang") == language
        assert tab.locator("#id_import_mode option:checked").get_attribute("value") == ""
        snap(tab, f"import_{language}_upload")
        upload(tab, STOCK_FILE)
        assert "<b>Cup</b>" in tab.inner_text("#preview-rows")  # text, never markup
        assert tab.get_attribute("#confirm-form input[type=submit]", "value") == confirm_label
        snap(tab, f"import_{language}_preview")

        # Confirm without leaving the error row out: refused at once, the form stays.
        tab.click("#confirm-form input[type=submit]")
        tab.wait_for_selector("#confirm-refused")
        assert tab.inner_text("#confirm-refused") == refused_text
        assert tab.is_visible("#id_skip_errors")
        assert not SyncRun.objects.exists()
        snap(tab, f"import_{language}_refused")

        # Leave it out: the page follows the run, then shows what was applied.
        tab.check("#id_skip_errors")
        tab.click("#confirm-form input[type=submit]")
        tab.wait_for_selector("#import-progress")
        assert tab.inner_text("#upload-status") == pending
        assert not tab.is_visible("#confirm-form")
        snap(tab, f"import_{language}_running")
        (run_id,) = queued
        import_confirm_run(run_id=run_id)
        tab.wait_for_selector("#applied-note")  # drawn again once the run ended
        assert tab.inner_text("#upload-status") == confirmed
        applied_rows = tab.inner_text("#preview-rows")
        assert "10 → 7" in applied_rows
        assert left_out in applied_rows
        snap(tab, f"import_{language}_applied")
        assert InventorySnapshot.objects.get(pk="known-1").internal_available == 7
        assert StoreSku.objects.filter(store_id="shop1", sku_id="new-1").exists()
        upload_row = UploadedFile.objects.get()
        assert "1200" not in upload_row.original_content

        # The export, opened by Excel or not, comes back as "no change".
        tab.goto("/imports/")
        with tab.expect_download() as download:
            tab.click("#export-utf8")
        exported = download.value.path().read_bytes()
        assert exported.startswith(b"\xef\xbb\xbf")
        assert b"'=Odd-1" in exported
        upload(tab, exported)
        actions = tab.locator("#preview-rows tbody tr")
        assert actions.count() == tab.locator("#preview-rows tr.action-no-change").count() == 4
        snap(tab, f"import_{language}_export_again")
    finally:
        context.close()
