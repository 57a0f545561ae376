"""The API docs in a real browser: Swagger UI and Redoc load from our own origin (the
sidecar package) and render every operation under the Content-Security-Policy."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from inventory_site.tests.browser import CHROMIUM, SCREENSHOTS
from rakuten.tests.test_browser import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture
def tab(browser, live_server, transactional_db):
    User.objects.create_superuser("ada", password=PASSWORD)
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    yield page
    context.close()


def test_swagger_ui_renders_every_operation_without_a_csp_violation(tab, live_server):
    problems: list[str] = []
    tab.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    requests: list[str] = []
    tab.on("request", lambda request: requests.append(request.url))
    tab.goto("/api/docs/")
    tab.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = tab.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/events/manual" in path for path in paths)
    assert len(paths) >= 25
    assert all(url.startswith(live_server.url) for url in requests), requests
    assert not [p for p in problems if "Content Security Policy" in p], problems
    tab.screenshot(path=str(SCREENSHOTS / "api_docs.png"), full_page=False)


def test_redoc_renders_with_nothing_from_another_origin(tab, live_server):
    problems: list[str] = []
    tab.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    loaded: list[str] = []
    tab.on("requestfinished", lambda request: loaded.append(request.url))
    tab.goto("/api/redoc/")
    tab.wait_for_selector("text=Inventory Sync API", timeout=20_000)
    tab.wait_for_selector("text=Manual adjustment", timeout=20_000)
    assert all(url.startswith(live_server.url) for url in loaded), loaded
    # Only Redoc's footer logo on cdn.redoc.ly is refused (the CSP blocks it; it stays out).
    refused = [p for p in problems if "Content Security Policy" in p]
    assert all("img-src" in p for p in refused), refused
