"""The README's screenshots, taken from a running `make demo` (let it run a few minutes first,
so that orders came in):

    .venv/bin/python docs/screenshots.py http://127.0.0.1:8000 <the admin password>

Playwright drives Debian's Chromium (/usr/bin/chromium, or $CHROMIUM) and writes
docs/demo-dashboard.png, docs/demo-sku.png and docs/demo-run.png."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

DOCS = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1100, "height": 680}


def shoot(page: Page, path: str, name: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=DOCS / name)
    print(f"{name}: {(DOCS / name).stat().st_size // 1024} KB")


def main(base_url: str, password: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(base_url=base_url, locale="en-US", viewport=VIEWPORT)
        page = context.new_page()
        page.goto("/admin/login/?next=/dashboard/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_url(re.compile(r"/dashboard/$"))
        shoot(page, "/dashboard/", "demo-dashboard.png")
        shoot(page, "/skus/mug-white/", "demo-sku.png")
        # The newest poll of the Tokyo shop that took orders.
        page.goto("/dashboard/stores/demo-tokyo/")
        run = page.locator("tr", has_text="orders").locator("a[href*='/runs/']").first
        shoot(page, run.get_attribute("href") or "", "demo-run.png")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
