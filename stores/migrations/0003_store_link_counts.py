"""A store's number of customer links, kept by triggers on PostgreSQL (tenants/counts.py):
the store list's total without counting the store's links. Existing links are counted
once, here."""

from django.db import migrations

from tenants import counts

COUNTS = [("store.links", "store_id", "TRUE")]
CREATE, DROP = counts.trigger_sql(
    table="stores_customerstore", function="hub_count_store_links", counts=COUNTS
)


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in (*CREATE, *counts.backfill_sql(table="stores_customerstore", counts=COUNTS)):
            schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in (*DROP, counts.forget_sql(counts=COUNTS)):
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("stores", "0002_link_customer_created_at"),
        ("tenants", "0003_row_counts"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
