"""Customers to and from CSV: the service, the admin import view and the management commands."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from customers import csv_io
from customers.models import Customer
from customers.selectors import customers_for_tenant
from customers.services import customers_import
from tests.admin_support import admin_client, make_staff
from tests.factories import ClientTypeFactory, CustomerFactory

pytestmark = pytest.mark.django_db
IMPORT_URL = reverse("admin:customers_customer_import")


def rows_of(text):
    return csv_io.read_rows(io.StringIO(text))


def snapshot(tenant):
    return sorted(
        (c.uuid, c.name, c.email, c.phone, c.credit, c.is_active, c.updated_at)
        for c in Customer.objects.filter(tenant=tenant)
    )


def test_round_trip_export_edit_import(world, other):
    vip = ClientTypeFactory(tenant=world.tenant, name="vip")
    ClientTypeFactory(tenant=world.tenant, name="donor")
    originals = CustomerFactory.create_batch(3, tenant=world.tenant, tags=[vip])
    text = csv_io.export_csv_text(customers_for_tenant(tenant=world.tenant))
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == Customer.objects.filter(tenant=world.tenant).count()
    edited = next(r for r in table if r["id"] == str(originals[0].uuid))
    edited["phone"], edited["tags"], edited["is_active"] = "+31 20 123 4567", "donor;vip", "false"
    table.append({**dict.fromkeys(table[0], ""), "name": "Brand New", "email": "new@example.com"})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table[0]))
    writer.writeheader()
    writer.writerows(table)

    report = customers_import(tenant=world.tenant, rows=rows_of(out.getvalue()), dry_run=False)
    assert report.errors == [] and report.created == 1 and report.updated == len(table) - 1
    originals[0].refresh_from_db()
    assert originals[0].phone == "+31201234567" and originals[0].is_active is False
    assert sorted(t.name for t in originals[0].tags.all()) == ["donor", "vip"]
    assert Customer.objects.get(tenant=world.tenant, email="new@example.com").source == "MANUAL"
    # a second export is the first one plus the edits: nothing duplicated
    again = list(
        csv.DictReader(
            io.StringIO(csv_io.export_csv_text(Customer.objects.filter(tenant=world.tenant)))
        )
    )
    assert len(again) == len(table)
    assert not Customer.objects.filter(tenant=other.tenant, email="new@example.com").exists()


def test_dry_run_reports_every_invalid_row_and_writes_nothing(world):
    CustomerFactory(tenant=world.tenant, email="taken@example.com")
    mine = CustomerFactory(tenant=world.tenant, email="mine@example.com")
    before = snapshot(world.tenant)
    text = (
        "id,name,email,credit,is_active,source,tags\n"
        ",Good One,good@example.com,1.50,true,EMAIL,\n"  # line 2
        f"{mine.uuid},Dup,TAKEN@example.com,0,true,,\n"  # line 3: email taken
        ",Bad credit,c@example.com,lots,true,,\n"  # line 4
        ',"Multi\nline",m@example.com,0,maybe,,\n'  # line 5-6: bad boolean
        ",Bad email,not-an-email,0,true,,\n"  # line 7
        ",Same twice,twice@example.com,0,true,,\n"  # line 8
        ",Unknown tag,t@example.com,0,true,,nope\n"  # line 9
        ",Bad source,s@example.com,0,true,FAX,\n"  # line 10
        ",Twice again,TWICE@example.com,0,true,,\n"  # line 11: updates line 8's customer
    )
    report = customers_import(tenant=world.tenant, rows=rows_of(text), dry_run=True)
    assert [line for line, _ in report.errors] == [3, 4, 5, 7, 9, 10]
    messages = dict(report.errors)
    assert "email" in messages[3] and "taken" in messages[3]
    assert "credit" in messages[4]
    assert "is_active" in messages[5]
    assert "email" in messages[7]
    assert "nope" in messages[9]
    assert "source" in messages[10]
    assert (report.created, report.updated) == (2, 1)
    assert snapshot(world.tenant) == before


def test_dry_run_of_valid_file_writes_nothing(world):
    before = snapshot(world.tenant)
    report = customers_import(
        tenant=world.tenant, rows=rows_of("name,email\nA,a@example.com\n"), dry_run=True
    )
    assert report.errors == [] and report.created == 1 and not report.committed
    assert snapshot(world.tenant) == before


def test_real_run_is_all_or_nothing(world):
    before = snapshot(world.tenant)
    text = "name,email\nFirst,first@example.com\nSecond,second@example.com\nBad,nope\n"
    report = customers_import(tenant=world.tenant, rows=rows_of(text), dry_run=False)
    assert report.errors and report.errors[0][0] == 4
    assert snapshot(world.tenant) == before
    assert not Customer.objects.filter(email="first@example.com").exists()


def test_import_is_tenant_scoped(world, other):
    theirs = CustomerFactory(tenant=other.tenant, name="Theirs", email="theirs@example.com")
    text = f"id,name\n{theirs.uuid},Hijacked\nnot-a-uuid,X\n"
    report = customers_import(tenant=world.tenant, rows=rows_of(text), dry_run=False)
    assert [line for line, _ in report.errors] == [2, 3]
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"
    # the same email in another tenant is another customer: created here, theirs untouched
    report = customers_import(
        tenant=world.tenant, rows=rows_of("name,email\nMine,theirs@example.com\n"), dry_run=False
    )
    assert report.created == 1
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("name,password\nA,b\n", "Unknown column"),
        ("name,name\nA,B\n", "twice"),
    ],
)
def test_unusable_files_are_refused(text, message):
    with pytest.raises(csv_io.CsvFormatError, match=message):
        rows_of(text)


def test_extra_cells_are_an_invalid_row(world):
    report = customers_import(tenant=world.tenant, rows=rows_of("name\nA\nB,extra\n"), dry_run=True)
    assert report.errors == [(3, "The row has more cells than the header.")]


# --- admin import view ---------------------------------------------------------------------------


def upload(client, tenant, text, dry_run):
    data = {"tenant": str(tenant.pk), "file": SimpleUploadedFile("c.csv", text.encode())}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(IMPORT_URL, data)


def test_admin_import_dry_run_then_real(world):
    client = admin_client(make_staff(world.admin))
    text = "name,email\nAlpha,alpha@example.com\nBeta,beta@example.com\n"
    response = upload(client, world.tenant, text, dry_run=True)
    assert response.status_code == 200
    assert "Dry run: every row is valid (2 to create" in response.content.decode()
    assert not Customer.objects.filter(email="alpha@example.com").exists()
    response = upload(client, world.tenant, text, dry_run=False)
    assert response.status_code == 200
    assert (
        Customer.objects.filter(
            tenant=world.tenant, email__in=["alpha@example.com", "beta@example.com"]
        ).count()
        == 2
    )


def test_admin_import_shows_invalid_rows_with_line_numbers(world):
    client = admin_client(make_staff(world.admin))
    response = upload(client, world.tenant, "name,email\nOk,ok@example.com\nBad,bad\n", False)
    page = response.content.decode()
    assert "1 invalid row: nothing was written." in page
    assert "<td>3</td>" in page
    assert not Customer.objects.filter(email="ok@example.com").exists()


def test_admin_import_into_other_tenant_is_refused(world, other):
    client = admin_client(make_staff(world.admin))
    response = upload(client, other.tenant, "name\nSneaky\n", False)
    assert response.status_code == 200
    assert "tenant" in response.context["form"].errors
    assert not Customer.objects.filter(name="Sneaky").exists()


def test_admin_import_refuses_non_utf8(world):
    client = admin_client(make_staff(world.admin))
    data = {
        "tenant": str(world.tenant.pk),
        "file": SimpleUploadedFile("c.csv", "name\nJosé\n".encode("latin-1")),
    }
    assert "not UTF-8" in client.post(IMPORT_URL, data).content.decode()


def test_import_needs_tenant_staff(world):
    client = admin_client(make_staff(world.viewer))  # agents add and change customers
    assert client.get(IMPORT_URL).status_code == 403


# --- management commands -------------------------------------------------------------------------


def test_commands_export_then_import(world, tmp_path, capsys):
    CustomerFactory.create_batch(2, tenant=world.tenant)
    path = tmp_path / "out.csv"
    call_command("export_customers", "--tenant", "acme", "-o", str(path))
    exported = path.read_text()
    assert exported.count("\n") == Customer.objects.filter(tenant=world.tenant).count() + 1
    assert "[" in capsys.readouterr().err  # the progress bar
    added = dict.fromkeys(csv_io.COLUMNS, "") | {"name": "Added", "email": "added@example.com"}
    path.write_text(exported + ",".join(added[c] for c in csv_io.COLUMNS) + "\n")
    out = io.StringIO()
    call_command("import_customers", str(path), "--tenant", "acme", "--dry-run", stdout=out)
    assert "1 customer(s) would be created" in out.getvalue()
    assert not Customer.objects.filter(email="added@example.com").exists()
    call_command("import_customers", str(path), "--tenant", str(world.tenant.pk), stdout=out)
    assert Customer.objects.filter(tenant=world.tenant, email="added@example.com").exists()


def test_import_command_reports_lines_and_fails(world, tmp_path, capsys):
    path = tmp_path / "in.csv"
    path.write_text("name,email\nA,a@example.com\nB,broken\nC,also-broken\n")
    with pytest.raises(CommandError, match="2 invalid row"):
        call_command("import_customers", str(path), "--tenant", "acme", "--no-progress")
    err = capsys.readouterr().err
    assert "line 3: email" in err and "line 4: email" in err
    assert not Customer.objects.filter(email="a@example.com").exists()


def test_import_command_unknown_tenant(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("name\nA\n")
    with pytest.raises(CommandError, match="Unknown tenant"):
        call_command("import_customers", str(path), "--tenant", "nope")
