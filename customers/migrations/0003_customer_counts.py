"""A tenant's number of customers, and of active customers, kept by triggers on PostgreSQL
(tenants/counts.py): the b2b list's total without counting a million rows. Existing
customers are counted once, here."""

from django.db import migrations

from tenants import counts

TRIGGERS = {
    "table": "customers_customer",
    "function": "hub_count_customers",
    "counts": [
    ("customers", "tenant_id", "TRUE"),
    ("customers.active", "tenant_id", "is_active"),
],
}


def install(apps, schema_editor):
    counts.install(schema_editor, **TRIGGERS)


def uninstall(apps, schema_editor):
    counts.uninstall(schema_editor, **TRIGGERS)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_postgres_search_indexes"),
        ("tenants", "0003_row_counts"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
