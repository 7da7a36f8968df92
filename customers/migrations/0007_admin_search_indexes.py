"""PostgreSQL-only B-tree indexes for the back-office search (customers/admin.py).

The admin's search matches each word of the term against the name, local name and email
(the trigram indexes of 0002) or the whole term exactly against the phone, the Discord id,
the Discord user name (case-insensitively) and the external id. A search is one ``OR`` of
all of these, and PostgreSQL combines index scans for an ``OR`` only when every branch has an
index: one branch without scans the tenant's every customer (1.4 s at 1,000,000 customers,
docs/performance.md). The Discord id has its unique index; these serve the others. Partial
(non-empty values only): an empty value is never searched, and most customers have none.

Nothing happens on other databases (SQLite): these indexes are not part of the models' state,
so ``makemigrations`` never sees them.
"""

from django.db import migrations

INDEXES = {
    "customer_phone": (
        "CREATE INDEX IF NOT EXISTS customer_phone ON customers_customer (tenant_id, phone) "
        "WHERE phone <> ''"
    ),
    "customer_external_id": (
        "CREATE INDEX IF NOT EXISTS customer_external_id ON customers_customer "
        "(tenant_id, external_id) WHERE external_id <> ''"
    ),
    "customer_discord_username_upper": (
        "CREATE INDEX IF NOT EXISTS customer_discord_username_upper ON customers_customer "
        "(tenant_id, UPPER(discord_username)) WHERE UPPER(discord_username) <> ''"
    ),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in INDEXES.values():
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_history_authorship")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
