"""A tenant admin exports the filtered customer list, imports a file (dry run, then for real)
and reads the result, with a change made by an API key, on the 360 page's timeline:
Playwright driving Debian's Chromium against a live server, at 1366 px.

Skipped (with the reason) when /usr/bin/chromium or the playwright package is missing.
Screenshots go to test-artifacts/ (not committed).
"""

from __future__ import annotations

import csv
import io
import json
import os
import urllib.request
from pathlib import Path

from django.core.management import call_command
from django.db import connections

from customers.models import Customer
from customers.services import customer_create
from tenants.models import Tenant
from tenants.services import api_key_issue
from tests.browser.conftest import ARTIFACTS, BROWSER, PASSWORD

FORMULA = '=HYPERLINK("http://evil.example/","Exportable formula")'

pytestmark = BROWSER


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_admin_exports_imports_and_reads_the_timeline(live_server, page):
    try:
        scenario(live_server, page)
    finally:
        # With Playwright's greenlets running, the test body's ORM calls get a connection of
        # their own; PostgreSQL cannot drop the test database while it is open.
        connections.close_all()


def scenario(live_server, page):
    call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    base = live_server.url
    acme, globex = Tenant.objects.get(slug="acme"), Tenant.objects.get(slug="globex")
    one = customer_create(tenant=acme, name="Exportable One", email="one@export.example")
    formula = customer_create(tenant=acme, name=FORMULA, phone="+31 20 123 4567")
    customer_create(tenant=acme, name="Exportable Inactive", is_active=False)
    customer_create(tenant=globex, name="Exportable Theirs")

    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "acme-admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#tenant-overview")

    # filter the list: a search, then the "active: yes" filter
    page.goto(f"{base}/admin/customers/customer/")
    page.fill("#searchbar", "Exportable")
    page.press("#searchbar", "Enter")
    page.wait_for_selector("#result_list")
    page.click('#changelist-filter a[href*="is_active__exact=1"]')
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == 2
    shot(page, "history-01-filtered-list")

    # export it: exactly the filtered rows, the formula neutralised
    with page.expect_download() as info:
        page.click("#export-csv")
    text = Path(info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(row["id"] for row in rows) == sorted([str(one.uuid), str(formula.uuid)])
    by_id = {row["id"]: row for row in rows}
    assert by_id[str(formula.uuid)]["name"] == "'" + FORMULA
    assert by_id[str(formula.uuid)]["phone"] == "'+31201234567"

    # import: the exported file, edited, plus a new customer; a dry run, then for real
    by_id[str(one.uuid)]["phone"] = "+31 6 1234 5678"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    writer.writerow(
        {**dict.fromkeys(rows[0], ""), "name": "Imported New", "email": "new@x.example"}
    )
    upload = {"name": "customers.csv", "mimeType": "text/csv", "buffer": out.getvalue().encode()}
    page.goto(f"{base}/admin/customers/customer/import/")
    page.set_input_files("#id_file", files=[upload])
    assert page.is_checked("#id_dry_run")
    page.click("input[type=submit]")
    page.wait_for_selector("#import-dry-run")
    assert "1 to create, 2 to update" in page.inner_text("#import-dry-run")
    shot(page, "history-02-import-dry-run")
    assert not Customer.objects.filter(tenant=acme, email="new@x.example").exists()
    page.set_input_files("#id_file", files=[upload])
    page.uncheck("#id_dry_run")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert "1 created, 2 updated" in page.inner_text(".messagelist")
    shot(page, "history-03-imported")
    assert Customer.objects.get(pk=one.pk).phone == "+31612345678"
    assert Customer.objects.get(pk=formula.pk).name == FORMULA  # unchanged by the round trip

    # a change through the b2b API with an API key
    _, secret = api_key_issue(tenant=acme, name="Shop sync")
    request = urllib.request.Request(
        f"{base}/api/customers/{one.uuid}",
        data=json.dumps({"name": "Exportable One B.V.", "payment_terms": "net_60"}).encode(),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        assert response.status == 200

    # the 360 page: the import and the key's change, on one timeline, with labels
    page.goto(f"{base}/admin/customers/customer/{one.pk}/360/")
    history = page.inner_text("#c360-history")
    assert "API key 'Shop sync'" in history and "via the b2b API" in history
    assert "Name: Exportable One → Exportable One B.V." in history
    assert "Payment terms: Net 30 → Net 60" in history
    assert "Phone: — → +31612345678" in history
    assert "CSV import" in history and "acme-admin" in history and "via the admin" in history
    assert "UTC" in history and "None" not in history
    page.locator("#c360-history").scroll_into_view_if_needed()
    shot(page, "history-04-customer-360-timeline")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, f"the 360 page is {width} px wide at 1366 px"

    # the admin's own history page names the key too
    page.goto(f"{base}/admin/customers/customer/{one.pk}/history/")
    table = page.inner_text("#change-history")
    assert "API key 'Shop sync'" in table and "None" not in table
    shot(page, "history-05-admin-history")
