"""What every browser test shares: Debian's Chromium driven by Playwright, at 1366 px.

A module of browser tests sets ``pytestmark = BROWSER`` (skipped, with the reason, when
/usr/bin/chromium or the playwright package is missing; `.ci/run` installs the chromium
package) and takes the ``page`` fixture (or ``browser_context`` to route its requests).
Screenshots go to test-artifacts/ (not committed).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
WIDTH = 1366
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "hub-demo-2026"  # every demo user's (manage.py demo)
#: the flags the machine's Chromium needs headless, offline, as root
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


BROWSER = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        chromium_path() is None, reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


@pytest.fixture
def browser_context(monkeypatch):
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed"
    )
    # Playwright's sync API runs its own event loop in this thread; the ORM calls of a test
    # body are plain synchronous code, so Django's async-safety guard does not apply. Set for
    # the test only, so it never leaks into other tests or their subprocesses.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=ARGS)
        context = browser.new_context(
            viewport={"width": WIDTH, "height": 900}, accept_downloads=True
        )
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            context.close()
            browser.close()


@pytest.fixture
def page(browser_context):
    return browser_context.new_page()
