"""A store's number of customer links, kept by triggers on PostgreSQL (tenants/counts.py):
the store list's total without counting the store's links. Existing links are counted
once, here.

The SQL is written out here (tenants/counts.py explains it), so that no later edit of the
app's code changes what this migration does.
"""

from django.db import migrations

# the triggers, then one count of the rows already there (in this migration's transaction)
INSTALL = [
    "LOCK TABLE stores_customerstore IN SHARE ROW EXCLUSIVE MODE",
    """
CREATE OR REPLACE FUNCTION hub_count_store_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tenants_rowcount (scope, owner, delta) SELECT scope, owner, SUM(n) FROM (SELECT 'store.links'::varchar AS scope, store_id AS owner, +1 AS n FROM new_rows WHERE TRUE) d GROUP BY scope, owner HAVING SUM(n) <> 0;
        IF random() < 0.03 THEN PERFORM hub_rowcount_compact(t.scope, t.owner) FROM (SELECT 'store.links'::varchar AS scope, store_id AS owner FROM new_rows) t; END IF;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO tenants_rowcount (scope, owner, delta) SELECT scope, owner, SUM(n) FROM (SELECT 'store.links'::varchar AS scope, store_id AS owner, -1 AS n FROM old_rows WHERE TRUE) d GROUP BY scope, owner HAVING SUM(n) <> 0;
        IF random() < 0.03 THEN PERFORM hub_rowcount_compact(t.scope, t.owner) FROM (SELECT 'store.links'::varchar AS scope, store_id AS owner FROM old_rows) t; END IF;
    ELSE
        INSERT INTO tenants_rowcount (scope, owner, delta) SELECT scope, owner, SUM(n) FROM (SELECT 'store.links'::varchar AS scope, store_id AS owner, +1 AS n FROM new_rows WHERE TRUE UNION ALL SELECT 'store.links'::varchar AS scope, store_id AS owner, -1 AS n FROM old_rows WHERE TRUE) d GROUP BY scope, owner HAVING SUM(n) <> 0;
        IF random() < 0.03 THEN PERFORM hub_rowcount_compact(t.scope, t.owner) FROM (SELECT 'store.links'::varchar AS scope, store_id AS owner FROM new_rows UNION SELECT 'store.links'::varchar AS scope, store_id AS owner FROM old_rows) t; END IF;
    END IF;
    RETURN NULL;
END $$;
""",
    "CREATE TRIGGER hub_count_store_links_insert AFTER INSERT ON stores_customerstore REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub_count_store_links()",
    "CREATE TRIGGER hub_count_store_links_delete AFTER DELETE ON stores_customerstore REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION hub_count_store_links()",
    "CREATE TRIGGER hub_count_store_links_update AFTER UPDATE ON stores_customerstore REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub_count_store_links()",
    "DELETE FROM tenants_rowcount WHERE scope IN ('store.links')",
    "INSERT INTO tenants_rowcount (scope, owner, delta) SELECT 'store.links', store_id, COUNT(*) FROM stores_customerstore WHERE TRUE GROUP BY store_id",
]

UNINSTALL = [
    "DROP TRIGGER IF EXISTS hub_count_store_links_insert ON stores_customerstore",
    "DROP TRIGGER IF EXISTS hub_count_store_links_delete ON stores_customerstore",
    "DROP TRIGGER IF EXISTS hub_count_store_links_update ON stores_customerstore",
    "DROP FUNCTION IF EXISTS hub_count_store_links()",
    "DELETE FROM tenants_rowcount WHERE scope IN ('store.links')",
]


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in INSTALL:
            schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in UNINSTALL:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("stores", "0002_link_customer_created_at"),
        ("tenants", "0003_row_counts"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
