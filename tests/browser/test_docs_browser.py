"""The API documentation in a real browser (issue 17): Swagger UI (/api/docs/) and Redoc
(/api/redoc/) load from the live server alone, with nothing fetched from the internet (a
greppable "no CDN" is not enough: the pages' scripts fetch fonts and images themselves),
and they really render the document (an operation's title is visible).

Every request the browser context would send to the network is routed through the test:
anything not addressed to the live server is recorded and aborted (a request the page's own
Content-Security-Policy refuses never reaches the network, nor the route). Skipped, with the
reason, without Chromium or Playwright (as tests/browser/test_admin_browser.py).
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.browser.conftest import ARTIFACTS, BROWSER

pytestmark = BROWSER

LOCAL_SCHEMES = {"data", "blob", "about"}


@pytest.mark.parametrize(
    ("path", "shows"),
    [
        ("/api/docs/", "Find or create a customer (by discordId, then userId, then email)"),
        ("/api/redoc/", "Find or create a customer (by discordId, then userId, then email)"),
    ],
    ids=["swagger-ui", "redoc"],
)
def test_the_docs_render_with_nothing_from_the_internet(live_server, browser_context, path, shows):
    here = urlparse(live_server.url).netloc
    left: list[str] = []

    def route(route):
        url = urlparse(route.request.url)
        if url.scheme in LOCAL_SCHEMES or url.netloc == here:
            route.continue_()
        else:
            left.append(route.request.url)
            route.abort()

    browser_context.route("**/*", route)
    page = browser_context.new_page()
    answered: list[str] = []  # requests that got an answer from anywhere but the server
    page.on(
        "requestfinished",
        lambda request: (
            answered.append(request.url)
            if urlparse(request.url).scheme not in LOCAL_SCHEMES
            and urlparse(request.url).netloc != here
            else None
        ),
    )
    page.goto(live_server.url + path, wait_until="networkidle")
    page.get_by_text(shows, exact=True).filter(visible=True).first.wait_for(state="visible")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(ARTIFACTS / f"docs-{path.strip('/').replace('/', '-')}.png"))
    assert left == [], f"{path} fetched from outside the machine: {left}"
    assert answered == []
