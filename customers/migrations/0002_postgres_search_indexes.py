"""PostgreSQL-only indexes for search at scale (docs/performance.md).

* Trigram GIN indexes (``pg_trgm``) on ``UPPER(name)``, ``UPPER(local_name)`` and
  ``UPPER(email)``: Django's ``icontains`` is ``UPPER(col::text) LIKE UPPER('%term%')`` on
  PostgreSQL, and an index on exactly that expression serves it (store search on name and
  local name, b2b search on name and email) instead of a scan of every customer. Their
  expressions get a statistics target of 1,000: with the default (100) the planner guesses
  ~100 matches for a common term that matches 25,000 customers, and then searches a small
  tenant's store through the all-tenant index (650 ms) instead of through the store's own
  links (40 ms).
* A B-tree on ``(created_at, id)``: a store's customer list is ordered by the *customer's*
  creation (newest first) but filtered on the store link, not the tenant, so the
  ``(tenant_id, created_at, id)`` index cannot drive it; with this one the first pages walk
  the newest customers and probe their links (0.7 ms instead of 830 ms at 1,000,000
  customers, 200,000 linked: docs/performance.md).
* A B-tree on ``(UPPER(email), tenant_id)`` for ``iexact`` (``UPPER(email) = UPPER(...)``:
  peppered's findByEmail, the data dialect's and the importer's lookups); the unique
  constraint's ``LOWER(email)`` index cannot serve ``UPPER``.

Nothing happens on other databases (SQLite): these indexes are not part of the models'
state, so ``makemigrations`` never sees them.
"""

from django.db import migrations

INDEXES = {
    "customer_name_trgm": (
        "CREATE INDEX IF NOT EXISTS customer_name_trgm ON customers_customer "
        "USING gin (UPPER(name) gin_trgm_ops)"
    ),
    "customer_local_name_trgm": (
        "CREATE INDEX IF NOT EXISTS customer_local_name_trgm ON customers_customer "
        "USING gin (UPPER(local_name) gin_trgm_ops)"
    ),
    "customer_email_trgm": (
        "CREATE INDEX IF NOT EXISTS customer_email_trgm ON customers_customer "
        "USING gin (UPPER(email) gin_trgm_ops)"
    ),
    "customer_created_id": (
        "CREATE INDEX IF NOT EXISTS customer_created_id ON customers_customer (created_at, id)"
    ),
    "customer_email_upper": (
        "CREATE INDEX IF NOT EXISTS customer_email_upper ON customers_customer "
        "(UPPER(email), tenant_id)"
    ),
}


STATISTICS = ("customer_name_trgm", "customer_local_name_trgm", "customer_email_trgm")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for sql in INDEXES.values():
        schema_editor.execute(sql)
    for name in STATISTICS:
        schema_editor.execute(f"ALTER INDEX {name} ALTER COLUMN 1 SET STATISTICS 1000")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
