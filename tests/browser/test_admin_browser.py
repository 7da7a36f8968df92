"""The back-office in a real browser: Playwright driving Debian's Chromium against a live server.

Skipped (with the reason) when /usr/bin/chromium or the playwright package is missing; `.ci/run`
installs the chromium package. Screenshots of every page go to test-artifacts/ (not committed).
"""

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections

from customers.models import Address, Customer

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "hub-demo-2026"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) or shutil.which("chromium")),
        reason=f"{CHROMIUM} is missing (apt-get install chromium)",
    ),
]


@pytest.fixture
def page(monkeypatch):
    # Playwright's sync API runs its own event loop in this thread; the ORM calls in this
    # module are plain synchronous code, so Django's async-safety guard does not apply. Set
    # for this test only, so it never leaks into other tests or their subprocesses.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            args=ARGS,
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(15_000)
        tab = context.new_page()
        try:
            yield tab
        finally:
            context.close()
            browser.close()


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(page, base_url, username):
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#tenant-overview")


def test_tenant_admin_finds_edits_and_cannot_reach_other_tenant(live_server, page):
    try:
        scenario(live_server, page)
    finally:
        # With Playwright's greenlets running, the ORM calls of the test body get a database
        # connection of their own; PostgreSQL cannot drop the test database while it is open.
        connections.close_all()


def scenario(live_server, page):
    call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    base = live_server.url
    ada = Customer.objects.get(tenant__slug="acme", email="ada@acme.example.com")
    their_ada = Customer.objects.get(tenant__slug="globex", email="ada@globex.example.com")

    login(page, base, "acme-admin")
    overview = page.inner_text("#tenant-overview")
    assert "Acme Retail" in overview and "Globex" not in overview
    shot(page, "01-index")

    # search a customer
    page.goto(f"{base}/admin/customers/customer/")
    page.fill("#searchbar", "Lovelace")
    page.press("#searchbar", "Enter")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "ada@acme.example.com" in rows.first.inner_text()
    shot(page, "02-search")

    # open the change form, then the 360 page through its button
    rows.first.locator("th a").click()
    page.wait_for_selector("#customer_form")
    shot(page, "03-change-form")
    page.click("text=360° view")
    page.wait_for_selector("#c360-identity")
    identity = page.inner_text("#c360-identity")
    assert str(ada.uuid) in identity and str(ada.pk) in identity
    assert "default" in page.inner_text("#c360-addresses")
    shot(page, "04-customer-360")

    # edit and save the address
    page.locator("#c360-addresses a", has_text="edit").first.click()
    page.wait_for_selector("#address_form")
    page.fill("#id_city", "Haarlem")
    page.fill("#id_postal_code", "2011AB")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    shot(page, "05-address-saved")
    address = Address.objects.get(customer=ada, key="home")
    assert (address.city, address.postal_code) == ("Haarlem", "2011AB")
    record = address.history.first()
    assert record.history_user.username == "acme-admin"

    # the 360 page shows the change in the recent history
    page.goto(f"{base}/admin/customers/customer/{ada.pk}/360/")
    assert "Haarlem" in page.inner_text("#c360-addresses")
    assert "acme-admin" in page.inner_text("#c360-history")

    # the other tenant's customer cannot be found, by search or by URL
    page.goto(f"{base}/admin/customers/customer/")
    page.fill("#searchbar", "ada@globex.example.com")
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()
    assert page.locator("#result_list").count() == 0
    assert "0 customers" in page.inner_text("#changelist") or "0 results" in page.inner_text(
        "#changelist"
    )
    shot(page, "06-other-tenant-search")
    response = page.goto(f"{base}/admin/customers/customer/{their_ada.pk}/360/")
    assert response.status == 404
    page.goto(f"{base}/admin/customers/customer/{their_ada.pk}/change/")
    assert page.url.rstrip("/").endswith("/admin")
    assert "exist" in page.inner_text(
        ".messagelist"
    )  # "... doesn\u2019t exist. Perhaps it was deleted?"
    shot(page, "07-other-tenant-direct-url")
