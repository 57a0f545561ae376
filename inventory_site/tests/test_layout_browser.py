"""The staff pages' layout in a real browser (Playwright, Debian's Chromium), in English and
Japanese: at 1366 px the staff navigation is one line and the staff pages have the whole
width (no admin app sidebar); breadcrumbs start at the dashboard; at 390 px (a phone) no page
is wider than the screen, tables scroll in their own box and forms stack. Each page is kept as
a screenshot under test-output/screenshots/layout/."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from inventory_site.tests.browser import CHROMIUM
from rakuten.tests.test_browser import PASSWORD
from sync.models import SyncRun

SCREENSHOTS = settings.BASE_DIR / "test-output" / "screenshots" / "layout"
LAPTOP, PHONE = 1366, 390
DASHBOARD = {"en": "Dashboard", "ja": "ダッシュボード"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture
def site(transactional_db) -> dict[str, str]:
    """seed_bulk's data; the pages to look at."""
    call_command("seed_bulk", "--skus", "12", "--events", "120", "--audit", "6", stdout=StringIO())
    User.objects.create_superuser("kaori", "kaori@example.com", PASSWORD)
    run = SyncRun.objects.order_by("-started_at").first()
    return {
        "dashboard": reverse("sync:dashboard"),
        "stores": reverse("sync:stores"),
        "store": reverse("sync:store", args=["bulk-tokyo"]),
        "run": reverse("sync:run", args=[run.pk]),
        "skus": reverse("skus:list"),
        "sku": reverse("skus:detail", args=["bulk-0000000"]),
        "failed": reverse("reports:failed"),
        "quarantine": reverse("reports:quarantine"),
        "oversell": reverse("reports:oversell"),
        "reconcile": reverse("reports:reconcile"),
        "audit": reverse("reports:audit"),
        "purchasing": reverse("purchasing:list"),
        "import": reverse("imports:upload"),
    }


@pytest.fixture(params=["en", "ja"])
def tab(request, browser, live_server, site):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    language = request.param
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": LAPTOP, "height": 900},
        locale="ja-JP" if language == "ja" else "en-US",
    )
    context.set_default_timeout(15_000)
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto("/admin/login/?next=/dashboard/")
    page.fill("#id_username", "kaori")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/$"))
    page.language = language
    yield page
    context.close()


def styled(page) -> bool:
    """Our stylesheet is in force (served and applied)."""
    return page.evaluate(
        "() => getComputedStyle(document.querySelector('#staff-nav ul')).display === 'flex'"
    )


def nav_rows(page) -> int:
    """How many lines the staff navigation takes."""
    return page.evaluate(
        """() => new Set([...document.querySelectorAll('#staff-nav li')]
            .map(li => Math.round(li.getBoundingClientRect().top))).size"""
    )


def page_overflow(page) -> int:
    """How far the page is wider than the window (0: it fits)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def breadcrumbs_start(page) -> tuple[str, str | None]:
    """The first step of the breadcrumbs: its text and its link (None: not a link)."""
    crumbs = page.locator("div.breadcrumbs")
    first = crumbs.locator("a").first
    if crumbs.locator("a").count() == 0:
        return crumbs.inner_text().split("›")[0].strip(), None
    return first.inner_text(), first.get_attribute("href")


def test_staff_pages_on_a_laptop(tab, site):
    wrong_breadcrumbs = []
    for name, url in site.items():
        tab.goto(url)
        assert tab.get_attribute("html", "lang") == tab.language
        assert styled(tab), "site.css is not applied (STATICFILES_DIRS)"
        assert tab.locator("#nav-sidebar").count() == 0, name
        assert nav_rows(tab) == 1, name
        # The header (name, user links, language) is one line too.
        assert tab.locator("#header").bounding_box()["height"] < 70, name
        assert page_overflow(tab) == 0, name
        # The content has the width the sidebar took.
        assert tab.locator("#content").bounding_box()["width"] > LAPTOP * 0.9, name
        # Breadcrumbs start at the dashboard (the dashboard's own: its name, no link).
        expected = (DASHBOARD[tab.language], None if name == "dashboard" else site["dashboard"])
        if breadcrumbs_start(tab) != expected:
            wrong_breadcrumbs.append((name, breadcrumbs_start(tab)))
        tab.screenshot(path=str(SCREENSHOTS / f"{tab.language}-{LAPTOP}-{name}.png"))
    assert wrong_breadcrumbs == []
    # The current section is marked in the navigation.
    tab.goto(site["sku"])
    assert tab.locator('#staff-nav a[aria-current="page"]').get_attribute("href") == site["skus"]


def test_admin_pages_keep_the_admin_look(tab, site):
    tab.goto(reverse("admin:sync_syncrun_changelist"))
    assert tab.locator("#nav-sidebar").count() == 1
    assert nav_rows(tab) == 1
    assert tab.locator("div.breadcrumbs a").first.get_attribute("href") == reverse("admin:index")
    tab.screenshot(path=str(SCREENSHOTS / f"{tab.language}-{LAPTOP}-admin-runs.png"))


def test_staff_pages_on_a_phone(tab, site):
    tab.set_viewport_size({"width": PHONE, "height": 844})
    for name, url in site.items():
        tab.goto(url)
        assert styled(tab), "site.css is not applied (STATICFILES_DIRS)"
        assert page_overflow(tab) == 0, f"{name} is wider than the phone"
        for box in tab.locator("#content-main table").all():
            assert box.bounding_box()["width"] <= PHONE, name
        tab.screenshot(path=str(SCREENSHOTS / f"{tab.language}-{PHONE}-{name}.png"), full_page=True)
    # A form stacks: each field on its own line, as wide as the form.
    tab.goto(site["skus"])
    form = tab.locator("#sku-filter").bounding_box()
    fields = tab.locator("#sku-filter input[type=search], #sku-filter select").all()
    tops = [field.bounding_box()["y"] for field in fields]
    assert len(set(tops)) == len(fields) == 4
    assert all(field.bounding_box()["width"] > form["width"] * 0.9 for field in fields)
    assert tab.locator("#sku-filter input[type=submit]").bounding_box()["height"] >= 40
    # A wide table scrolls inside its own box.
    tab.goto(site["sku"])
    timeline = tab.locator("#timeline")
    assert timeline.evaluate("table => table.scrollWidth > table.clientWidth")
    assert timeline.evaluate("table => getComputedStyle(table).overflowX") == "auto"
