"""Copy the customer's name and local name onto its store links, kept by the database.

The store dialect's search (``search``: name or local name; ``name``: name) used to find its
matches among *all* customers through the trigram indexes of customers/migrations/0002 and
then keep those linked to the store: a common term ("mensah", 1 customer in 40) rechecked
27,575 candidates of every tenant, scattered over 18,228 heap pages, to count the 4,998 of
the store (146 ms at 1,000,000 customers). With the names on the link, the store's search
reads the store's links only, through trigram indexes on the link (7 ms), and a small store
is searched through its own links (docs/performance.md).

A name changes (the API, the admin, a history revert, ``QuerySet.update``, raw SQL), so the
copies are kept by triggers, on every path and on both databases:

* a link inserted, or moved to another customer, takes its customer's names (PostgreSQL:
  a ``BEFORE`` trigger that reads the customer ``FOR SHARE``, so a rename committing
  meanwhile is waited for, not missed); a link whose customer does not exist (yet) is an
  error, not an empty copy;
* any other write of a link's copies (an ORM ``save()`` of a stale instance) takes the
  customer's current names again, whatever was written;
* a customer renamed updates its links' copies in the same statement.

On PostgreSQL the copies get trigram GIN indexes on ``UPPER(...)`` (Django's ``icontains``),
with a statistics target of 1,000 as the customer's (customers/migrations/0002), and without
GIN's pending list (``fastupdate = off``): links are written far less often than searched,
and a pending list is read in full by every search until a vacuum merges it (10,000 links
re-made by the benchmark left 200 pending pages that doubled a selective search). Existing
links are filled here in one statement.
"""

from django.db import migrations, models

# --- PostgreSQL ---------------------------------------------------------------------------------

PG_CREATE = [
    """
    CREATE OR REPLACE FUNCTION hub_link_customer_names() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR NEW.customer_id IS DISTINCT FROM OLD.customer_id THEN
            -- FOR SHARE: a rename of the customer in progress is waited for (its trigger
            -- cannot see this uncommitted link), and a later one waits for this link
            SELECT c.name, c.local_name INTO NEW.customer_name, NEW.customer_local_name
            FROM customers_customer c WHERE c.id = NEW.customer_id FOR SHARE;
        ELSE
            SELECT c.name, c.local_name INTO NEW.customer_name, NEW.customer_local_name
            FROM customers_customer c WHERE c.id = NEW.customer_id;
        END IF;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING
                ERRCODE = 'foreign_key_violation',
                MESSAGE = format('customer %s of store link %s does not exist',
                                 NEW.customer_id, NEW.id);
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER hub_link_customer_names
    BEFORE INSERT OR UPDATE OF customer_id, customer_name, customer_local_name
    ON stores_customerstore FOR EACH ROW EXECUTE FUNCTION hub_link_customer_names()
    """,
    """
    CREATE OR REPLACE FUNCTION hub_customer_names_to_links() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE stores_customerstore
        SET customer_name = NEW.name, customer_local_name = NEW.local_name
        WHERE customer_id = NEW.id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER hub_customer_names_to_links
    AFTER UPDATE OF name, local_name ON customers_customer FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.local_name IS DISTINCT FROM NEW.local_name)
    EXECUTE FUNCTION hub_customer_names_to_links()
    """,
]

PG_INDEXES = {
    "customerstore_name_trgm": "customer_name",
    "customerstore_local_name_trgm": "customer_local_name",
}

PG_DROP = [
    "DROP TRIGGER IF EXISTS hub_customer_names_to_links ON customers_customer",
    "DROP FUNCTION IF EXISTS hub_customer_names_to_links()",
    "DROP TRIGGER IF EXISTS hub_link_customer_names ON stores_customerstore",
    "DROP FUNCTION IF EXISTS hub_link_customer_names()",
    *(f"DROP INDEX IF EXISTS {name}" for name in PG_INDEXES),
]

# --- SQLite (no BEFORE trigger may change the row: the link is updated after the write) ------

_NAMES = (
    "customer_name = (SELECT name FROM customers_customer WHERE id = NEW.customer_id),"
    " customer_local_name = (SELECT local_name FROM customers_customer"
    " WHERE id = NEW.customer_id)"
)
# a WHEN that stops the trigger's own update from firing it again (were recursive_triggers on)
_STALE = (
    "NEW.customer_name IS NOT (SELECT name FROM customers_customer WHERE id = NEW.customer_id)"
    " OR NEW.customer_local_name IS NOT (SELECT local_name FROM customers_customer"
    " WHERE id = NEW.customer_id)"
)

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER hub_link_customer_names_insert AFTER INSERT ON stores_customerstore
    FOR EACH ROW BEGIN
        SELECT RAISE(ABORT, 'the customer of a store link does not exist')
        WHERE NOT EXISTS (SELECT 1 FROM customers_customer WHERE id = NEW.customer_id);
        UPDATE stores_customerstore SET {_NAMES} WHERE id = NEW.id;
    END
    """,
    f"""
    CREATE TRIGGER hub_link_customer_names_update
    AFTER UPDATE OF customer_id, customer_name, customer_local_name ON stores_customerstore
    FOR EACH ROW WHEN {_STALE} BEGIN
        SELECT RAISE(ABORT, 'the customer of a store link does not exist')
        WHERE NOT EXISTS (SELECT 1 FROM customers_customer WHERE id = NEW.customer_id);
        UPDATE stores_customerstore SET {_NAMES} WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER hub_customer_names_to_links
    AFTER UPDATE OF name, local_name ON customers_customer FOR EACH ROW
    WHEN OLD.name IS NOT NEW.name OR OLD.local_name IS NOT NEW.local_name BEGIN
        UPDATE stores_customerstore
        SET customer_name = NEW.name, customer_local_name = NEW.local_name
        WHERE customer_id = NEW.id;
    END
    """,
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS hub_customer_names_to_links",
    "DROP TRIGGER IF EXISTS hub_link_customer_names_update",
    "DROP TRIGGER IF EXISTS hub_link_customer_names_insert",
]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    # existing links, in one statement (before the triggers, which would do it row by row)
    schema_editor.execute(
        "UPDATE stores_customerstore SET"
        " customer_name = (SELECT name FROM customers_customer c"
        " WHERE c.id = stores_customerstore.customer_id),"
        " customer_local_name = (SELECT local_name FROM customers_customer c"
        " WHERE c.id = stores_customerstore.customer_id)"
    )
    if vendor == "postgresql":
        for sql in PG_CREATE:
            schema_editor.execute(sql, None)  # no parameters: format()'s %s stay as they are
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, column in PG_INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON stores_customerstore"
                f" USING gin (UPPER({column}) gin_trgm_ops) WITH (fastupdate = off)"
            )
            schema_editor.execute(f"ALTER INDEX {name} ALTER COLUMN 1 SET STATISTICS 1000")
    elif vendor == "sqlite":
        for sql in SQLITE_CREATE:
            schema_editor.execute(sql)
    else:
        raise NotImplementedError(f"store link name copies: no triggers for {vendor}")


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in PG_DROP if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_customer_counts"),
        ("stores", "0003_store_link_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="customerstore",
            name="customer_name",
            field=models.CharField(
                default="",
                editable=False,
                help_text=(
                    "A copy of the customer's name, kept by the database (triggers of "
                    "stores/migrations/0004): the store's search reads the store's links only."
                ),
                max_length=255,
            ),
        ),
        migrations.AddField(
            model_name="customerstore",
            name="customer_local_name",
            field=models.CharField(
                default="",
                editable=False,
                help_text="A copy of the customer's local name, kept like customer_name.",
                max_length=255,
            ),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
