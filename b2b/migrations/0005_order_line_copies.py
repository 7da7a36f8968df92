"""Copy the order's customer, date and status onto its lines, kept by the database.

A customer's top products (b2b.analytics) added up the lines of its counted orders of the
period: PostgreSQL found the orders in their covering index, then probed the lines' index
once per order (848 probes, ~2.5 ms for the benchmark's customer with 1,000 orders, the
largest part of its analytics). With the order's customer, date and status on the line,
the same lines are one range of a partial covering index, ``(order_customer_id,
order_date) INCLUDE (product, quantity, line_total) WHERE order_status IN (counted)``:
~0.6 ms, and no join (docs/performance.md).

An order's customer and date never change through the API or the admin, but its status
does (and the ORM, a history revert or raw SQL may change anything), so the copies are kept
by triggers, on every path and on both databases, as the store links' copies of their
customer's names (stores/migrations/0004):

* a line inserted, or moved to another order, takes its order's values (PostgreSQL: a
  ``BEFORE`` trigger that reads the order ``FOR SHARE``, so a status change committing
  meanwhile is waited for, not missed); a line whose order does not exist (yet) is an
  error, not an empty copy;
* any other write of a line's copies (an ORM ``save()`` of a stale instance) takes the
  order's current values again, whatever was written;
* an order whose customer, date or status changes updates its lines in the same statement.

The columns are nullable only because SQLite cannot change a row before it is inserted: its
triggers fill them right after. Existing lines are filled here in one statement.
"""

from django.db import migrations, models

# --- PostgreSQL ---------------------------------------------------------------------------------

PG_CREATE = [
    """
    CREATE OR REPLACE FUNCTION hub_line_order_copies() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR NEW.order_id IS DISTINCT FROM OLD.order_id THEN
            -- FOR SHARE: a status change of the order in progress is waited for (its
            -- trigger cannot see this uncommitted line), and a later one waits for this line
            SELECT o.customer_id, o.order_date, o.status
            INTO NEW.order_customer_id, NEW.order_date, NEW.order_status
            FROM b2b_salesorder o WHERE o.id = NEW.order_id FOR SHARE;
        ELSE
            SELECT o.customer_id, o.order_date, o.status
            INTO NEW.order_customer_id, NEW.order_date, NEW.order_status
            FROM b2b_salesorder o WHERE o.id = NEW.order_id;
        END IF;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING
                ERRCODE = 'foreign_key_violation',
                MESSAGE = format('order %s of order line %s does not exist',
                                 NEW.order_id, NEW.id);
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER hub_line_order_copies
    BEFORE INSERT OR UPDATE OF order_id, order_customer_id, order_date, order_status
    ON b2b_orderline FOR EACH ROW EXECUTE FUNCTION hub_line_order_copies()
    """,
    """
    CREATE OR REPLACE FUNCTION hub_order_copies_to_lines() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE b2b_orderline
        SET order_customer_id = NEW.customer_id, order_date = NEW.order_date,
            order_status = NEW.status
        WHERE order_id = NEW.id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER hub_order_copies_to_lines
    AFTER UPDATE OF customer_id, order_date, status ON b2b_salesorder FOR EACH ROW
    WHEN (OLD.customer_id IS DISTINCT FROM NEW.customer_id
          OR OLD.order_date IS DISTINCT FROM NEW.order_date
          OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION hub_order_copies_to_lines()
    """,
]

PG_FILL = (
    "UPDATE b2b_orderline l SET order_customer_id = o.customer_id,"
    " order_date = o.order_date, order_status = o.status"
    " FROM b2b_salesorder o WHERE o.id = l.order_id"
)

PG_DROP = [
    "DROP TRIGGER IF EXISTS hub_order_copies_to_lines ON b2b_salesorder",
    "DROP FUNCTION IF EXISTS hub_order_copies_to_lines()",
    "DROP TRIGGER IF EXISTS hub_line_order_copies ON b2b_orderline",
    "DROP FUNCTION IF EXISTS hub_line_order_copies()",
]

# --- SQLite (no BEFORE trigger may change the row: the line is updated after the write) ------

_COPIES = (
    "order_customer_id = (SELECT customer_id FROM b2b_salesorder WHERE id = NEW.order_id),"
    " order_date = (SELECT order_date FROM b2b_salesorder WHERE id = NEW.order_id),"
    " order_status = (SELECT status FROM b2b_salesorder WHERE id = NEW.order_id)"
)
# a WHEN that stops the trigger's own update from firing it again (were recursive_triggers on)
_STALE = (
    "NOT EXISTS (SELECT 1 FROM b2b_salesorder o WHERE o.id = NEW.order_id"
    " AND o.customer_id IS NEW.order_customer_id AND o.order_date IS NEW.order_date"
    " AND o.status IS NEW.order_status)"
)
_NO_ORDER = (
    "SELECT RAISE(ABORT, 'the order of an order line does not exist')"
    " WHERE NOT EXISTS (SELECT 1 FROM b2b_salesorder WHERE id = NEW.order_id);"
)

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER hub_line_order_copies_insert AFTER INSERT ON b2b_orderline
    FOR EACH ROW BEGIN
        {_NO_ORDER}
        UPDATE b2b_orderline SET {_COPIES} WHERE id = NEW.id;
    END
    """,
    f"""
    CREATE TRIGGER hub_line_order_copies_update
    AFTER UPDATE OF order_id, order_customer_id, order_date, order_status ON b2b_orderline
    FOR EACH ROW WHEN {_STALE} BEGIN
        {_NO_ORDER}
        UPDATE b2b_orderline SET {_COPIES} WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER hub_order_copies_to_lines
    AFTER UPDATE OF customer_id, order_date, status ON b2b_salesorder FOR EACH ROW
    WHEN OLD.customer_id IS NOT NEW.customer_id OR OLD.order_date IS NOT NEW.order_date
        OR OLD.status IS NOT NEW.status BEGIN
        UPDATE b2b_orderline
        SET order_customer_id = NEW.customer_id, order_date = NEW.order_date,
            order_status = NEW.status
        WHERE order_id = NEW.id;
    END
    """,
]

SQLITE_FILL = (
    "UPDATE b2b_orderline SET"
    " order_customer_id = (SELECT customer_id FROM b2b_salesorder o"
    " WHERE o.id = b2b_orderline.order_id),"
    " order_date = (SELECT order_date FROM b2b_salesorder o WHERE o.id = b2b_orderline.order_id),"
    " order_status = (SELECT status FROM b2b_salesorder o WHERE o.id = b2b_orderline.order_id)"
)

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS hub_order_copies_to_lines",
    "DROP TRIGGER IF EXISTS hub_line_order_copies_update",
    "DROP TRIGGER IF EXISTS hub_line_order_copies_insert",
]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    # existing lines, in one statement (before the triggers, which would do it row by row)
    if vendor == "postgresql":
        schema_editor.execute(PG_FILL)
        for sql in PG_CREATE:
            schema_editor.execute(sql, None)  # no parameters: format()'s %s stay as they are
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FILL)
        for sql in SQLITE_CREATE:
            schema_editor.execute(sql)
    else:
        raise NotImplementedError(f"order line copies: no triggers for {vendor}")


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in PG_DROP if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("b2b", "0004_covering_order_index_with_id"),
        ("pricelists", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderline",
            name="order_customer_id",
            field=models.BigIntegerField(
                editable=False,
                help_text="A copy of the order's customer, kept by the database.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="orderline",
            name="order_date",
            field=models.DateTimeField(
                editable=False,
                help_text="A copy of the order's date, kept by the database.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="orderline",
            name="order_status",
            field=models.TextField(
                editable=False,
                help_text="A copy of the order's status, kept by the database.",
                null=True,
            ),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
        migrations.AddIndex(
            model_name="orderline",
            index=models.Index(
                condition=models.Q(("order_status__in", ("confirmed", "shipped", "delivered"))),
                fields=["order_customer_id", "order_date"],
                include=("product", "quantity", "line_total"),
                name="orderline_customer_counted",
            ),
        ),
    ]
