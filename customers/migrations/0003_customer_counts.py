"""A tenant's number of customers, and of active customers, kept by triggers on PostgreSQL
(tenants/counts.py): the b2b list's total without counting a million rows. Existing
customers are counted once, here."""

from django.db import migrations

from tenants import counts

COUNTS = [
    ("customers", "tenant_id", "TRUE"),
    ("customers.active", "tenant_id", "is_active"),
]
CREATE, DROP = counts.trigger_sql(
    table="customers_customer", function="hub_count_customers", counts=COUNTS
)


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in (*CREATE, *counts.backfill_sql(table="customers_customer", counts=COUNTS)):
            schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in (*DROP, counts.forget_sql(counts=COUNTS)):
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_postgres_search_indexes"),
        ("tenants", "0003_row_counts"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
