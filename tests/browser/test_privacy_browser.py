"""A tenant admin exports a customer's data from its 360 page and erases it after the
confirmation page; an agent sees the export only (issue 22). Playwright driving Debian's
Chromium against a live server, at 1366 px; screenshots in test-artifacts/."""

from __future__ import annotations

import json
import os
import zipfile

from django.core.management import call_command
from django.db import connections

from customers.models import Customer, ErasureReceipt
from customers.services import address_add, customer_create
from tenants.models import Tenant
from tests.browser.conftest import ARTIFACTS, BROWSER, PASSWORD

pytestmark = BROWSER


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(page, base, username):
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#tenant-overview")


def test_admin_exports_then_erases_and_an_agent_only_exports(live_server, browser_context):
    try:
        scenario(live_server, browser_context)
    finally:
        connections.close_all()  # PostgreSQL cannot drop a database still open


def scenario(live_server, browser_context):
    call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    base = live_server.url
    acme = Tenant.objects.get(slug="acme")
    person = customer_create(tenant=acme, name="Ottilie Privacy", email="ottilie@privacy.example")
    address_add(customer=person, key="home", line1="Geheimweg 9", city="Utrecht")
    page_360 = f"{base}/admin/customers/customer/{person.pk}/360/"

    # an agent: the export, not the erasure
    agent = browser_context.new_page()
    login(agent, base, "acme-agent")
    agent.goto(page_360)
    agent.wait_for_selector("#c360-privacy")
    assert agent.locator("#c360-privacy-export").is_visible()
    assert agent.locator("#c360-privacy-erase").count() == 0
    shot(agent, "privacy-01-agent-360")
    browser_context.clear_cookies()

    page = browser_context.new_page()
    login(page, base, "acme-admin")
    page.goto(page_360)
    with page.expect_download() as info:
        page.click("#c360-privacy-export")
    with zipfile.ZipFile(info.value.path()) as archive:
        data = json.loads(archive.read("customer.json"))
        assert "README.txt" in archive.namelist()
    assert data["record"]["email"] == "ottilie@privacy.example"
    assert data["addresses"][0]["line1"] == "Geheimweg 9"
    shot(page, "privacy-02-admin-360")

    page.click("#c360-privacy-erase")
    page.wait_for_selector("#erase-form")
    assert "This cannot be undone" in page.inner_text("#content-main")
    shot(page, "privacy-03-confirm")
    page.click("#erase-confirm")
    page.wait_for_selector(".messagelist .success")
    assert "erased" in page.inner_text(".messagelist")
    shot(page, "privacy-04-erased")
    person = Customer.objects.get(pk=person.pk)
    assert person.erased_at is not None and person.email == "" and person.name == ""
    assert ErasureReceipt.objects.filter(customer_pk=person.pk).exists()
