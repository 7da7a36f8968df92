"""Bound the pending lists of the customers' trigram indexes (PostgreSQL).

A GIN index collects new entries in a pending list (``fastupdate``) that every search reads
in full until it is merged into the index: by the insert that makes it exceed
``gin_pending_list_limit`` (4 MB by default) or by a vacuum, which autovacuum starts only
after a fifth of the table has been inserted. A million-customer table therefore searched
up to 4 MB of pending entries per index, a few milliseconds per index on every search
(docs/performance.md). Turning the pending list off costs each inserted customer ~130 µs
in the three indexes (20,000 inserts: 2.7 s against 0.3 s); a limit of 256 kB keeps inserts
cheap (0.5 s) and a search's extra read below a millisecond. The pending lists that
exist now are merged here.

Nothing happens on other databases (the indexes are PostgreSQL's, customers/migrations/0002).
"""

from django.db import migrations

INDEXES = ("customer_name_trgm", "customer_local_name_trgm", "customer_email_trgm")
LIMIT_KB = 256


def bound(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"ALTER INDEX {name} SET (gin_pending_list_limit = {LIMIT_KB})")
        schema_editor.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")


def unbound(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"ALTER INDEX {name} RESET (gin_pending_list_limit)")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_customer_counts")]

    operations = [migrations.RunPython(bound, unbound, elidable=False)]
