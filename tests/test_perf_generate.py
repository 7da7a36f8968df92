"""``manage.py generate`` (tests/bench/generate.py and its stores/b2b extensions): deterministic,
additive, batched (the number of statements does not grow with N), consistent with every
constraint, and fast on a small N."""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext

from b2b.models import Account, Contact, OrderLine, SalesOrder
from customers.models import Address, Customer
from stores.models import CustomerStore, Store
from tenants.models import Tenant
from tests.bench.generate import NULL, Extension, GenerationRun, copy_text, money, text, ts
from tests.bench.management.commands.generate import Command as Generate
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def fingerprint(tenant) -> dict:
    """Everything generated for ``tenant``, without integer primary keys (those come from
    the database's sequences)."""
    customers = Customer.objects.filter(tenant=tenant, external_id__startswith="gen-")
    return {
        "customers": list(
            customers.order_by("uuid").values_list(
                "uuid",
                "name",
                "local_name",
                "email",
                "phone",
                "discord_id",
                "source",
                "credit",
                "is_active",
                "created_at",
                "updated_at",
                "external_id",
                "default_address__key",
                "default_address__line1",
            )
        ),
        "addresses": list(
            Address.objects.filter(customer__in=customers)
            .order_by("id")
            .values_list("id", "customer__uuid", "key", "line1", "city", "postal_code")
        ),
        "tags": sorted(customers.values_list("uuid", "tags__name")),
        "links": list(
            CustomerStore.objects.filter(customer__in=customers)
            .order_by("id")
            .values_list("id", "customer__uuid", "store__name", "price_list__name", "created_at")
        ),
        "accounts": list(
            Account.objects.filter(customer__in=customers)
            .order_by("customer__uuid")
            .values_list(
                "customer__uuid",
                "tax_id",
                "payment_terms",
                "currency",
                "credit_limit",
                "discount_rate",
                "billing_address__key",
                "shipping_address__key",
            )
        ),
        "contacts": list(
            Contact.objects.filter(customer__in=customers)
            .order_by("id")
            .values_list("id", "customer__uuid", "name", "email", "is_primary")
        ),
        "orders": list(
            SalesOrder.objects.filter(customer__in=customers)
            .order_by("id")
            .values_list("id", "order_number", "status", "order_date", "total_amount")
        ),
        "lines": list(
            OrderLine.objects.filter(order__customer__in=customers)
            .order_by("id")
            .values_list("id", "product__sku", "quantity", "unit_price", "line_total")
        ),
    }


def generate(tenant, count, *, seed=7, chunk_size=40, **options):
    options = {"orders": 2, **options}
    return GenerationRun(
        tenant=tenant, count=count, seed=seed, options=options, chunk_size=chunk_size
    ).run()


def generated_once(slug, count, **kwargs) -> dict:
    """Generate in a fresh tenant inside a transaction that is rolled back; the fingerprint."""
    with transaction.atomic():
        tenant = TenantFactory(slug=slug)
        generate(tenant, count, **kwargs)
        data = fingerprint(tenant)
        transaction.set_rollback(True)
    return data


def test_same_seed_same_data():
    first = generated_once("gen", 120)
    second = generated_once("gen", 120)
    assert first == second
    assert len(first["customers"]) == 120 and first["orders"] and first["lines"]


def test_another_seed_or_tenant_gives_other_data():
    base = generated_once("gen", 60)
    assert generated_once("gen", 60, seed=8)["customers"] != base["customers"]
    other_tenant = generated_once("gen-two", 60)["customers"]
    assert {row[0] for row in other_tenant}.isdisjoint({row[0] for row in base["customers"]})


def test_generating_in_two_runs_equals_generating_at_once():
    with transaction.atomic():
        tenant = TenantFactory(slug="gen")
        generate(tenant, 50, store_links=10, b2b=5)
        generate(tenant, 30, store_links=6, b2b=3)
        in_two = fingerprint(tenant)
        transaction.set_rollback(True)
    at_once = generated_once("gen", 80, store_links=16, b2b=8)
    assert in_two["customers"] == at_once["customers"]
    assert in_two["addresses"] == at_once["addresses"]
    assert in_two["tags"] == at_once["tags"]


def test_counts_and_relations_are_as_asked():
    tenant = TenantFactory(slug="gen")
    summary = generate(tenant, 200, store_links=40, b2b=20, orders=3, heavy_orders=50)
    customers = Customer.objects.filter(tenant=tenant, external_id__startswith="gen-")
    assert customers.count() == summary["customers"] == 200
    store = Store.objects.get(tenant=tenant, name="Generated store")
    assert CustomerStore.objects.filter(store=store).count() == summary["store links"] == 40
    # a link carries its customer's creation time, and was made after it
    links = CustomerStore.objects.filter(store=store)
    assert not links.exclude(customer_created_at=F("customer__created_at")).exists()
    # and its names (written by the generator, as the database's triggers keep them)
    assert not links.exclude(customer_name=F("customer__name")).exists()
    assert not links.exclude(customer_local_name=F("customer__local_name")).exists()
    assert links.exclude(customer_local_name="").exists()
    assert not links.filter(created_at__lte=F("customer__created_at")).exists()
    assert Account.objects.filter(customer__tenant=tenant).count() == 20
    per_customer = sorted(
        SalesOrder.objects.filter(tenant=tenant)
        .values("customer")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    assert per_customer == [3] * 19 + [50]
    # every account has a primary contact and billing/shipping addresses of its customer
    for account in Account.objects.filter(customer__tenant=tenant).select_related(
        "billing_address", "shipping_address"
    ):
        assert account.billing_address.customer_id == account.customer_id
        assert account.shipping_address.customer_id == account.customer_id
        assert Contact.objects.filter(customer_id=account.customer_id, is_primary=True).count() == 1
    # order totals are the sum of their lines
    order = SalesOrder.objects.filter(tenant=tenant).first()
    assert order.total_amount == sum(line.line_total for line in order.lines.all())
    # lines carry their order's customer, date and status (as the database's triggers keep them)
    lines = OrderLine.objects.filter(order__tenant=tenant)
    assert lines.count() > 20 * 3
    assert not lines.exclude(order_customer_id=F("order__customer_id")).exists()
    assert not lines.exclude(order_date=F("order__order_date")).exists()
    assert not lines.exclude(order_status=F("order__status")).exists()
    # default addresses belong to their customers
    assert not customers.exclude(default_address__isnull=True).exclude(
        default_address__customer_id=F("id")
    )
    # realistic shapes
    assert customers.exclude(email="").count() > 100
    assert customers.exclude(discord_id="").count() > 40
    assert Address.objects.filter(customer__tenant=tenant).count() > 100


def test_emails_are_unique_case_insensitively_and_ids_are_unique():
    tenant = TenantFactory(slug="gen")
    generate(tenant, 300)
    emails = [
        e.lower()
        for e in Customer.objects.filter(tenant=tenant)
        .exclude(email="")
        .values_list("email", flat=True)
    ]
    assert len(emails) == len(set(emails))
    uuids = list(Customer.objects.filter(tenant=tenant).values_list("uuid", flat=True))
    assert len(uuids) == len(set(uuids))
    assert all(u.version == 7 for u in uuids)


def test_statements_do_not_grow_with_the_number_of_customers():
    tenant = TenantFactory(slug="gen")
    GenerationRun(tenant=tenant, count=1, options={"b2b": 1, "store_links": 1}).run()  # setup

    def statements(count):
        run = GenerationRun(tenant=tenant, count=count, chunk_size=10_000, options={"orders": 2})
        with CaptureQueriesContext(connection) as ctx:
            run.run()
        return len(ctx.captured_queries)

    assert statements(50) == statements(500)


def test_a_run_in_chunks_creates_every_customer():
    # Its speed is make bench's to measure (docs/performance.md), not a timed test's.
    tenant = TenantFactory(slug="gen")
    summary = generate(tenant, 2_000, chunk_size=1_000)
    assert summary["customers"] == 2_000
    assert Customer.objects.filter(tenant=tenant, external_id__startswith="gen-").count() == 2_000


def test_command_creates_the_tenant_and_reports():
    out = io.StringIO()
    call_command(
        Generate(), customers=25, tenant="gen-cmd", seed=3, quiet=True, orders=1, stdout=out
    )
    tenant = Tenant.objects.get(slug="gen-cmd")
    assert Customer.objects.filter(tenant=tenant, external_id__startswith="gen-").count() == 25
    text = out.getvalue()
    assert "25 customers" in text and "customers/s" in text


def test_command_rejects_a_bad_slug():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command(
            Generate(), customers=1, tenant="Not A Slug!", quiet=True, stdout=io.StringIO()
        )


def _delete_generated(tenant) -> None:
    customers = Customer.objects.filter(tenant=tenant, external_id__startswith="gen-")
    OrderLine.objects.filter(order__customer__in=customers).delete()
    SalesOrder.objects.filter(customer__in=customers).delete()
    Account.objects.filter(customer__in=customers).delete()
    customers.update(default_address=None)
    customers.delete()


WRITTEN = (
    "customers_customer",
    "customers_address",
    "customers_customer_tags",
    "customers_identifier",  # the identity graph (issue 20)
    "stores_customerstore",
    "b2b_account",
    "b2b_contact",
    "b2b_salesorder",
    "b2b_orderline",
)


def schema() -> dict:
    """Every index (with its statistics targets) and every constraint (with its definition
    and whether it is validated) of the tables the generator writes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid),"
            " ARRAY(SELECT ARRAY[a.attnum::int, a.attstattarget::int] FROM pg_attribute a"
            "  WHERE a.attrelid = i.indexrelid AND a.attstattarget > 0 ORDER BY a.attnum)"
            " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = ANY(%s)",
            [list(WRITTEN)],
        )
        indexes = sorted((name, definition, str(stats)) for name, definition, stats in cursor)
        cursor.execute(
            "SELECT t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid),"
            " c.convalidated, c.condeferrable, c.condeferred"
            " FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
            " WHERE t.relname = ANY(%s)",
            [list(WRITTEN)],
        )
        constraints = sorted(cursor.fetchall())
    return {"indexes": indexes, "constraints": constraints}


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_and_deferred_indexes_on_postgres(postgres_only):
    """Forked workers write chunks in any order, yet make the same rows as one process; the
    indexes and foreign keys dropped for a large load are all back afterwards, exactly as
    they were (definitions, statistics targets, validated)."""
    before = schema()
    names = [row[0] for row in before["indexes"]]
    assert "customer_name_trgm" in names and "customer_email_upper" in names
    foreign_keys = [row for row in before["constraints"] if row[2] == "f"]
    assert len(foreign_keys) >= 15 and all(row[4] and row[5] and row[6] for row in foreign_keys)
    tenant = TenantFactory(slug="gen-par")
    options = {"orders": 1, "b2b": 10, "store_links": 20}
    GenerationRun(tenant=tenant, count=90, seed=5, chunk_size=20, options=options).run()
    sequential = fingerprint(tenant)
    _delete_generated(tenant)
    run = GenerationRun(
        tenant=tenant, count=90, seed=5, chunk_size=20, options=options, defer_indexes_from=50
    )
    assert run.start == 0
    dropped = []
    original = run.writer.drop_foreign_keys

    def drop_foreign_keys(keys):
        dropped.extend(keys)
        original(keys)

    run.writer.drop_foreign_keys = drop_foreign_keys
    run.run(workers=2)
    assert {key[1] for key in dropped} == {row[1] for row in foreign_keys}
    assert run.index_seconds > 0
    assert schema() == before
    with connection.cursor() as cursor:  # the rebuilt index kept its statistics target
        cursor.execute(
            "SELECT attstattarget FROM pg_attribute"
            " WHERE attrelid = 'customer_name_trgm'::regclass AND attnum = 1"
        )
        assert cursor.fetchone()[0] == 1000
    assert fingerprint(tenant) == sequential


class Interrupt(Extension):
    """Stops the run at customer ``AT`` (after some chunks were committed)."""

    AT = 70
    how = "exception"

    def customer(self, run, c):
        if c.index - run.start == self.AT:
            if self.how == "sigterm":
                os.kill(os.getpid(), signal.SIGTERM)
            raise KeyboardInterrupt


class SigtermInterrupt(Interrupt):
    how = "sigterm"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "extension,error", [(Interrupt, KeyboardInterrupt), (SigtermInterrupt, SystemExit)]
)
def test_interrupted_deferred_load_restores_indexes_and_foreign_keys(
    postgres_only, extension, error
):
    """Ctrl-C (or SIGTERM) in the middle of a deferred load: the chunks committed so far stay,
    and the indexes and foreign keys are made again, validated, exactly as before."""
    before = schema()
    tenant = TenantFactory(slug="gen-int")
    run = GenerationRun(
        tenant=tenant,
        count=100,
        seed=3,
        chunk_size=20,
        defer_indexes_from=50,
        extensions=[extension],
    )
    with pytest.raises(error):
        run.run()
    assert schema() == before
    assert Customer.objects.filter(tenant=tenant).count() == 60  # three chunks of 20


@pytest.mark.django_db(transaction=True)
def test_a_failed_validation_leaves_the_foreign_key_not_valid_and_raises(postgres_only, capsys):
    """A foreign key that no longer holds after the load is still made again (NOT VALID:
    enforced for new rows) and the run says so."""
    tenant = TenantFactory(slug="gen-bad")
    run = GenerationRun(tenant=tenant, count=60, seed=3, chunk_size=20, defer_indexes_from=50)
    original = run._chunks

    def chunks(*args):
        original(*args)
        with connection.cursor() as cursor:  # a row the foreign key would have refused
            cursor.execute(
                "UPDATE customers_address SET customer_id = -1 WHERE id IN"
                " (SELECT default_address_id FROM customers_customer"
                "  WHERE default_address_id IS NOT NULL LIMIT 1)"
            )

    run._chunks = chunks
    with pytest.raises(Exception, match="customer_id"):
        run.run()
    # the restore script is kept for the operator, and named
    script = capsys.readouterr().err.split("the statements are in ")[1].split()[0]
    assert "VALIDATE CONSTRAINT" in Path(script).read_text()
    Path(script).unlink()
    name = "customers_address_customer_id_f042422e_fk_customers_customer_id"
    with connection.cursor() as cursor:
        cursor.execute("SELECT convalidated FROM pg_constraint WHERE conname = %s", [name])
        assert cursor.fetchone() == (False,)
        cursor.execute(  # put the row right; then the key validates
            "UPDATE customers_address a SET customer_id = c.id FROM customers_customer c"
            " WHERE a.customer_id = -1 AND c.default_address_id = a.id"
        )
        cursor.execute(f"ALTER TABLE customers_address VALIDATE CONSTRAINT {name}")


def test_rows_are_text_in_copy_form():
    assert ts(1_704_067_200_000 + 86_400_000 + 3_723_004) == "2024-01-02 01:02:03.004+00"
    assert money(1250) == "12.50" and money(7) == "0.07" and money(0) == "0.00"
    assert text(None) == NULL and text(True) == "t" and text(False) == "f"
    assert text({"a": 1}) == {"a": 1}
    rows = [("1", "plain", NULL), ("2", "ü and ' quotes", "x")]
    assert copy_text(rows, 3) == "1\tplain\t\\N\n2\tü and ' quotes\tx\n"
    # values that need escaping, or are not text yet, take the value-by-value path
    odd = [("1", "tab\there", "new\nline"), ("2", "back\\slash", 5), ("3", "cr\r", NULL)]
    assert copy_text(odd, 3) == ("1\ttab\\there\tnew\\nline\n2\tback\\\\slash\t5\n3\tcr\\r\t\\N\n")


@pytest.mark.django_db(transaction=True)
def test_the_restore_script_puts_back_what_a_killed_run_dropped(postgres_only):
    """A run killed outright (SIGKILL) cannot restore anything itself: the psql script it
    wrote first does it, and the run removes the script when it restored everything."""
    import glob
    import tempfile

    before = schema()
    tenant = TenantFactory(slug="gen-kill")
    run = GenerationRun(tenant=tenant, count=60, chunk_size=20, defer_indexes_from=50)
    writer = run.writer
    tables = sorted({t.db_table for t in run.tables})
    indexes, keys = writer.deferred_indexes(tables), writer.deferred_foreign_keys(tables)
    script = writer.restore_script(indexes, keys)
    writer.drop_foreign_keys(keys)
    writer.drop_indexes(indexes)
    assert schema() != before
    with connection.cursor() as cursor:
        for statement in script.split(";\n"):
            if statement.strip() and not statement.startswith("--"):
                cursor.execute(statement)
    assert schema() == before
    pattern = f"{tempfile.gettempdir()}/generate-restore-*.sql"
    leftovers = set(glob.glob(pattern))
    run.run()
    assert set(glob.glob(pattern)) == leftovers
