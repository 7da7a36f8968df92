"""An agent merges two customers from the 360° page (the two records side by side, a field
chosen from the merged one) and undoes it from the merge history; a viewer is refused:
Playwright driving Debian's Chromium against a live server, at 1366 px.

Skipped (with the reason) when /usr/bin/chromium or the playwright package is missing.
Screenshots go to test-artifacts/ (not committed).
"""

from __future__ import annotations

import os

from django.core.management import call_command
from django.db import connections

from customers.models import Customer, Merge
from customers.services import customer_create
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
    page.wait_for_selector("#content")


def test_an_agent_merges_and_undoes_a_viewer_is_refused(live_server, browser_context):
    try:
        scenario(live_server, browser_context)
    finally:
        # Playwright's greenlets give the test body's ORM calls a connection of their own;
        # PostgreSQL cannot drop the test database while it is open.
        connections.close_all()


def scenario(live_server, context):
    call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    base = live_server.url
    acme = Tenant.objects.get(slug="acme")
    ada = customer_create(tenant=acme, name="Ada Lovelace", email="ada@merge.example")
    twin = customer_create(tenant=acme, name="Ada L.", email="ada.l@merge.example", salutation="Ms")
    page = context.new_page()
    login(page, base, "acme-agent")

    # from the 360° page: Merge with…, the other found by its email
    page.goto(f"{base}/admin/customers/customer/{ada.pk}/360/")
    page.click("#c360-merge")
    page.fill("#merge-other", "ada.l@merge.example")
    page.click("#merge-find input[type=submit]")
    page.wait_for_selector("#merge-fields")
    row = page.inner_text("#merge-field-salutation")
    assert "Ms" in row and "only the merged record has a value" in row
    page.check("#merge-field-email input[value=merged]")
    shot(page, "merge-01-side-by-side")
    page.click("#merge-submit")
    page.wait_for_selector(".messagelist .success")
    assert "Merged Ada L. into Ada Lovelace" in page.inner_text(".messagelist")
    shot(page, "merge-02-merged")
    merge = Merge.objects.get()
    assert merge.actor["name"] == "acme-agent" and merge.fields == {"email": "merged"}
    ada.refresh_from_db()
    assert ada.email == "ada.l@merge.example" and ada.salutation == "Ms"
    assert Customer.objects.get(pk=twin.pk).merged_into_id == ada.pk

    # the survivor's history says who merged what
    page.goto(f"{base}/admin/customers/customer/{ada.pk}/360/")
    history = page.inner_text("#c360-history")
    assert f"Merged customer {twin.uuid} into {ada.uuid}" in history and "acme-agent" in history

    # the merge history: Undo, confirmed
    page.goto(f"{base}/admin/customers/merge/{merge.pk}/change/")
    page.click("#merge-undo")
    page.wait_for_selector("#undo-question")
    shot(page, "merge-03-undo-confirm")
    page.click("#undo-confirm")
    page.wait_for_selector(".messagelist .success")
    assert "Undid the merge" in page.inner_text(".messagelist")
    merge.refresh_from_db()
    assert merge.undone_at is not None and merge.undone_by["name"] == "acme-agent"
    ada.refresh_from_db()
    assert ada.email == "ada@merge.example" and ada.salutation == ""
    assert Customer.objects.get(pk=twin.pk).merged_into_id is None
    shot(page, "merge-04-undone")

    # a viewer: no Merge with…, and the merge screen refused
    context.clear_cookies()
    login(page, base, "acme-viewer")
    page.goto(f"{base}/admin/customers/customer/{ada.pk}/360/")
    page.wait_for_selector("#c360-identity")
    assert page.locator("#c360-merge").count() == 0
    response = page.goto(f"{base}/admin/customers/merge/start/{ada.pk}/?other={twin.uuid}")
    assert response.status == 403
    shot(page, "merge-05-viewer-refused")
    assert Merge.objects.count() == 1
