"""An agent sees a customer's possible duplicates on its 360 page, with their scores and
reasons, and dismisses a pair in the review queue (issue 20): Playwright driving Debian's
Chromium against a live server, at 1366 px.

Skipped (with the reason) when /usr/bin/chromium or the playwright package is missing.
Screenshots go to test-artifacts/ (not committed).
"""

from __future__ import annotations

import io
import os

from django.core.management import call_command
from django.db import connections

from customers.models import DuplicatePair, DuplicateStatus
from customers.services import address_add, customer_create
from tenants.models import Tenant
from tests.browser.conftest import ARTIFACTS, BROWSER, PASSWORD

pytestmark = BROWSER


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_agent_reviews_duplicates(live_server, page):
    try:
        scenario(live_server, page)
    finally:
        # With Playwright's greenlets running, the test body's ORM calls get a connection of
        # their own; PostgreSQL cannot drop the test database while it is open.
        connections.close_all()


def scenario(live_server, page):
    call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    base = live_server.url
    acme = Tenant.objects.get(slug="acme")
    ada = customer_create(tenant=acme, name="Zelda Quibbleworth", phone="+31 6 1234 9876")
    twin = customer_create(tenant=acme, name="Augusta Hornblower", phone="+31612349876")
    namesake = customer_create(tenant=acme, name="Zelda Quibbleworth")
    for customer in (ada, namesake):
        address_add(customer=customer, key="home", postal_code="1011 AB", city="Amsterdam")
    call_command("find_duplicates", "acme", "--no-progress", stdout=io.StringIO())

    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "acme-agent")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content")

    # the 360 page: both candidates, the strongest first, each with its reasons
    page.goto(f"{base}/admin/customers/customer/{ada.pk}/360/")
    rows = page.locator("#c360-duplicates tr.c360-duplicate")
    assert rows.count() == 2
    first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "Augusta Hornblower" in first and "Same phone: +31612349876" in first and "85" in first
    assert "Zelda Quibbleworth" in second and "Same name and postcode" in second
    assert rows.nth(0).locator("a.c360-duplicate-compare").inner_text() == "Compare / merge"
    shot(page, "duplicates-01-360")

    # the queue: dismiss the namesake pair
    page.click("#c360-duplicates >> text=Review queue")
    page.wait_for_selector("#result_list")
    ours = page.locator("#result_list tbody tr", has_text="Quibbleworth")
    assert ours.count() == 2
    pair = DuplicatePair.objects.get(customer_a=ada, customer_b=namesake)
    page.check(f'#result_list input[name=_selected_action][value="{pair.pk}"]')
    page.select_option("select[name=action]", "dismiss")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    assert "1 pair(s) dismissed" in page.inner_text(".messagelist")
    shot(page, "duplicates-02-dismissed")
    pair.refresh_from_db()
    assert pair.status == DuplicateStatus.DISMISSED
    assert pair.decided_by.username == "acme-agent"

    # the open pairs are left; the 360 page no longer proposes the dismissed one
    page.click('#changelist-filter a[href*="status__exact=open"]')
    page.wait_for_selector("#result_list")
    ours = page.locator("#result_list tbody tr", has_text="Quibbleworth")
    assert ours.count() == 1
    assert twin.display_name in ours.inner_text()
    page.goto(f"{base}/admin/customers/customer/{ada.pk}/360/")
    assert page.locator("#c360-duplicates tr.c360-duplicate").count() == 1
