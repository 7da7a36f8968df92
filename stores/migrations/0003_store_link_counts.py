"""A store's number of customer links, kept by triggers on PostgreSQL (tenants/counts.py):
the store list's total without counting the store's links. Existing links are counted
once, here."""

from django.db import migrations

from tenants import counts

TRIGGERS = {
    "table": "stores_customerstore",
    "function": "hub_count_store_links",
    "counts": [("store.links", "store_id", "TRUE")],
}


def install(apps, schema_editor):
    counts.install(schema_editor, **TRIGGERS)


def uninstall(apps, schema_editor):
    counts.uninstall(schema_editor, **TRIGGERS)


class Migration(migrations.Migration):
    dependencies = [
        ("stores", "0002_link_customer_created_at"),
        ("tenants", "0003_row_counts"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
