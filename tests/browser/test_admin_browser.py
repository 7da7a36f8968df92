"""The back-office in a real browser: Playwright driving Debian's Chromium against a live server.

An admin, an agent and a viewer of the demo's tenant ``acme`` each log in and do their daily
work (find a customer, open its 360° page, edit where the role allows it, export the list
they filtered, import a change) and are refused what
the role may not do; another tenant's rows never appear for any of them. Every page is seen
at 1366 px wide and must fit (no horizontal scroll, no change-list column cut off).

Chromium, Playwright and the screenshots: tests/browser/conftest.py.
"""

import csv
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections

from customers.models import Address, Customer
from stores.models import CustomerStore
from tenants.models import ApiKey, Membership
from tests.browser.conftest import ARTIFACTS, BROWSER, PASSWORD, WIDTH

pytestmark = BROWSER


@pytest.fixture
def demo(live_server, page):
    """The demo world behind a live server; the database connections are closed at the end:
    with Playwright's greenlets running, the ORM calls of the test body get a connection of
    their own, and PostgreSQL cannot drop the test database while it is open."""
    try:
        call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        yield live_server.url
    finally:
        connections.close_all()


def shot(page, name):
    """A screenshot of the page (test-artifacts/), which must fit a 1366 px wide screen."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{name}: the page is {width} px wide"
    results = page.evaluate(
        "(() => { const r = document.querySelector('.results');"
        " return r ? [r.scrollWidth, r.clientWidth] : null })()"
    )
    if results:
        assert results[0] <= results[1], f"{name}: the list's last columns are cut off"


def login(page, base_url, username):
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#tenant-overview")


def find_customer(page, base, term):
    page.goto(f"{base}/admin/customers/customer/")
    page.fill("#searchbar", term)
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()
    return page.locator("#result_list tbody tr")


def status_of(page, url) -> int:
    return page.goto(url).status


def other_tenant_never_appears(page, base, role):
    their_ada = Customer.objects.get(tenant__slug="globex", email="ada@globex.example.com")
    rows = find_customer(page, base, "ada@globex.example.com")
    assert rows.count() == 0
    page.goto(f"{base}/admin/customers/customer/")
    assert "globex" not in page.inner_text("#changelist").lower()
    shot(page, f"{role}-09-customers-no-other-tenant")
    assert status_of(page, f"{base}/admin/customers/customer/{their_ada.pk}/360/") == 404
    page.goto(f"{base}/admin/customers/customer/{their_ada.pk}/change/")
    assert page.url.rstrip("/").endswith("/admin")  # "… doesn't exist. Perhaps it was deleted?"


def export_and_import(page, base, role):
    """Every role exports the list it filtered (its own tenant's rows only); the admin and the
    agent import a change of it (a dry run first), the viewer may not import."""
    ada = Customer.objects.get(tenant__slug="acme", email="ada@acme.example.com")
    find_customer(page, base, "Lovelace")
    with page.expect_download() as info:
        page.click("#export-csv")
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text("utf-8"))))
    assert [row["id"] for row in rows] == [str(ada.uuid)]
    assert rows[0]["email"] == "ada@acme.example.com"
    shot(page, f"{role}-07-exported")

    import_url = f"{base}/admin/customers/customer/import/"
    if role == "viewer":
        assert status_of(page, import_url) == 403
        return
    notes = f"Called back by the {role}"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["id", "notes"])
    writer.writeheader()
    writer.writerow({"id": str(ada.uuid), "notes": notes})
    upload = {"name": "ada.csv", "mimeType": "text/csv", "buffer": out.getvalue().encode()}
    page.goto(import_url)
    page.set_input_files("#id_file", files=[upload])
    assert page.is_checked("#id_dry_run")
    page.click("input[type=submit]")
    page.wait_for_selector("#import-dry-run")
    assert "0 to create, 1 to update" in page.inner_text("#import-dry-run")
    assert Customer.objects.get(pk=ada.pk).notes != notes  # a dry run writes nothing
    page.set_input_files("#id_file", files=[upload])
    page.uncheck("#id_dry_run")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert "0 created, 1 updated" in page.inner_text(".messagelist")
    shot(page, f"{role}-08-imported")
    assert Customer.objects.get(pk=ada.pk).notes == notes


def test_tenant_admin_finds_edits_and_cannot_reach_other_tenant(demo, page):
    base = demo
    ada = Customer.objects.get(tenant__slug="acme", email="ada@acme.example.com")

    login(page, base, "acme-admin")
    overview = page.inner_text("#tenant-overview")
    assert "Acme Retail" in overview and "Globex" not in overview
    menu = page.inner_text("#content-main")
    for name in ("API keys", "Memberships", "Tenants", "Price lists", "Customers"):
        assert name in menu, name
    shot(page, "admin-01-index")

    rows = find_customer(page, base, "Lovelace")
    assert rows.count() == 1
    assert "ada@acme.example.com" in rows.first.inner_text()
    shot(page, "admin-02-search")

    # the change form, then the 360 page through its button
    rows.first.locator("th a").click()
    page.wait_for_selector("#customer_form")
    assert page.locator("a.deletelink").count() == 1
    shot(page, "admin-03-change-form")
    page.click("text=360° view")
    page.wait_for_selector("#c360-identity")
    identity = page.inner_text("#c360-identity")
    assert str(ada.uuid) in identity and str(ada.pk) in identity
    assert "default" in page.inner_text("#c360-addresses")
    assert "UTC" in page.inner_text("#c360-contact")
    shot(page, "admin-04-customer-360")

    # all of the customer's orders, from the 360 page
    page.click("#c360-all-orders")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == ada.orders.count()
    shot(page, "admin-05-customer-orders")
    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_selector("#salesorder_form")
    lines = page.inner_text("#lines-group")
    assert "Smart Widget" in lines or "Pocket Gadget" in lines or "USB-C Cable" in lines
    assert "{" not in page.inner_text(".field-shipping_address_lines")
    shot(page, "admin-06-order")

    # edit and save the address
    page.goto(f"{base}/admin/customers/customer/{ada.pk}/360/")
    page.locator("#c360-addresses a", has_text="edit").first.click()
    page.wait_for_selector("#address_form")
    page.fill("#id_city", "Haarlem")
    page.fill("#id_postal_code", "2011AB")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    shot(page, "admin-07-address-saved")
    address = Address.objects.get(customer=ada, key="home")
    assert (address.city, address.postal_code) == ("Haarlem", "2011AB")
    record = address.history.first()
    assert record.history_user.username == "acme-admin"

    # the 360 page shows the change in the recent history
    page.goto(f"{base}/admin/customers/customer/{ada.pk}/360/")
    assert "Haarlem" in page.inner_text("#c360-addresses")
    assert "acme-admin" in page.inner_text("#c360-history")

    # a negative price is refused with a sentence
    page.goto(f"{base}/admin/pricelists/product/")
    page.locator("#result_list tbody tr th a").first.click()
    page.fill("#id_base_price", "-1")
    page.click("input[name=_save]")
    assert "The base price must be 0 or more." in page.inner_text(".field-base_price")
    shot(page, "admin-08-negative-price")

    export_and_import(page, base, "admin")
    other_tenant_never_appears(page, base, "admin")


def test_agent_does_the_daily_work_and_deletes_nothing(demo, page):
    base = demo
    ada = Customer.objects.get(tenant__slug="acme", email="ada@acme.example.com")
    login(page, base, "acme-agent")
    menu = page.inner_text("#content-main")
    assert "Customers" in menu and "Sales orders" in menu
    for name in ("API keys", "Memberships", "Tenants", "Price lists", "Store memberships"):
        assert name not in menu, name
    shot(page, "agent-01-index")

    # find a customer and go straight to its 360 page from the list
    rows = find_customer(page, base, "Lovelace")
    assert rows.count() == 1
    shot(page, "agent-02-search")
    rows.first.locator("td.field-open_360 a").click()
    page.wait_for_selector("#c360-identity")
    assert str(ada.uuid) in page.inner_text("#c360-identity")
    shot(page, "agent-03-customer-360")

    # edit: the change form saves, and offers no delete
    page.click("#content-main .object-tools a.changelink")
    page.wait_for_selector("#customer_form")
    assert page.locator("a.deletelink").count() == 0
    assert page.locator("input[name=_save]").count() == 1
    page.fill("#id_phone", "0611111111")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    shot(page, "agent-04-customer-saved")
    ada.refresh_from_db()
    assert ada.phone == "+31611111111"
    assert ada.history.first().history_user.username == "acme-agent"

    # a forged delete is refused, by URL and as a bulk action (not offered)
    assert status_of(page, f"{base}/admin/customers/customer/{ada.pk}/delete/") == 403
    page.goto(f"{base}/admin/customers/customer/")
    actions = page.locator("select[name=action] option").all_inner_texts()
    assert not [a for a in actions if "Delete" in a]
    assert Customer.objects.filter(pk=ada.pk).exists()

    # its store links are those of its store only
    page.goto(f"{base}/admin/stores/customerstore/")
    listed = page.inner_text("#result_list")
    assert "Acme Retail Downtown" in listed and "Acme Retail Airport" not in listed
    assert (
        page.locator("#result_list tbody tr").count()
        == CustomerStore.objects.filter(store__name="Acme Retail Downtown").count()
    )
    shot(page, "agent-05-store-links")

    # what it may not touch
    key = ApiKey.objects.filter(tenant__slug="acme").first()
    membership = Membership.objects.get(user__username="acme-viewer")
    for path in (
        "/admin/tenants/apikey/",
        f"/admin/tenants/apikey/{key.pk}/change/",
        "/admin/tenants/membership/",
        f"/admin/tenants/membership/{membership.pk}/change/",
        "/admin/tenants/tenant/",
        "/admin/pricelists/pricelist/",
    ):
        assert status_of(page, base + path) == 403, path
    shot(page, "agent-06-price-lists-refused")

    export_and_import(page, base, "agent")
    other_tenant_never_appears(page, base, "agent")


def test_viewer_reads_and_is_refused_every_write(demo, page):
    base = demo
    ada = Customer.objects.get(tenant__slug="acme", email="ada@acme.example.com")
    login(page, base, "acme-viewer")
    shot(page, "viewer-01-index")
    rows = find_customer(page, base, "Lovelace")
    assert rows.count() == 1
    shot(page, "viewer-02-search")
    rows.first.locator("td.field-open_360 a").click()
    page.wait_for_selector("#c360-identity")
    assert page.inner_text("#content-main .object-tools a.changelink").lower() == "view"
    shot(page, "viewer-03-customer-360")

    # the customer's page reads, without a save button
    page.click("#content-main .object-tools a.changelink")
    page.wait_for_selector("#customer_form")
    assert page.locator("input[name=_save], input[name=_continue]").count() == 0
    assert page.locator("a.deletelink").count() == 0
    shot(page, "viewer-04-customer-read-only")

    for path in (
        "/admin/customers/customer/add/",
        f"/admin/customers/customer/{ada.pk}/delete/",
        "/admin/b2b/salesorder/add/",
        "/admin/tenants/apikey/",
        "/admin/tenants/membership/",
        "/admin/tenants/tenant/",
        "/admin/pricelists/pricelist/",
    ):
        assert status_of(page, base + path) == 403, path
    page.goto(f"{base}/admin/customers/customer/")
    actions = page.locator("select[name=action] option").all_inner_texts()
    assert not [a for a in actions if "Deactivate" in a or "Delete" in a]
    shot(page, "viewer-05-customers")

    export_and_import(page, base, "viewer")
    other_tenant_never_appears(page, base, "viewer")
