"""A tenant's number of customers, and of active customers, kept by triggers on PostgreSQL
(tenants/counts.py): the b2b list's total without counting a million rows. Existing
customers are counted once, here.

The SQL is written out here (tenants/counts.py explains it), so that no later edit of the
app's code changes what this migration does.
"""

from django.db import migrations

# the triggers, then one count of the rows already there (in this migration's transaction)
INSTALL = [
    "LOCK TABLE customers_customer IN SHARE ROW EXCLUSIVE MODE",
    """
CREATE OR REPLACE FUNCTION hub_count_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tenants_rowcount (scope, owner, delta) SELECT scope, owner, SUM(n) FROM (SELECT 'customers'::varchar AS scope, tenant_id AS owner, +1 AS n FROM new_rows WHERE TRUE UNION ALL SELECT 'customers.active'::varchar AS scope, tenant_id AS owner, +1 AS n FROM new_rows WHERE is_active) d GROUP BY scope, owner HAVING SUM(n) <> 0;
        IF random() < 0.03 THEN PERFORM hub_rowcount_compact(t.scope, t.owner) FROM (SELECT 'customers'::varchar AS scope, tenant_id AS owner FROM new_rows UNION SELECT 'customers.active'::varchar AS scope, tenant_id AS owner FROM new_rows) t; END IF;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO tenants_rowcount (scope, owner, delta) SELECT scope, owner, SUM(n) FROM (SELECT 'customers'::varchar AS scope, tenant_id AS owner, -1 AS n FROM old_rows WHERE TRUE UNION ALL SELECT 'customers.active'::varchar AS scope, tenant_id AS owner, -1 AS n FROM old_rows WHERE is_active) d GROUP BY scope, owner HAVING SUM(n) <> 0;
        IF random() < 0.03 THEN PERFORM hub_rowcount_compact(t.scope, t.owner) FROM (SELECT 'customers'::varchar AS scope, tenant_id AS owner FROM old_rows UNION SELECT 'customers.active'::varchar AS scope, tenant_id AS owner FROM old_rows) t; END IF;
    ELSE
        INSERT INTO tenants_rowcount (scope, owner, delta) SELECT scope, owner, SUM(n) FROM (SELECT 'customers'::varchar AS scope, tenant_id AS owner, +1 AS n FROM new_rows WHERE TRUE UNION ALL SELECT 'customers.active'::varchar AS scope, tenant_id AS owner, +1 AS n FROM new_rows WHERE is_active UNION ALL SELECT 'customers'::varchar AS scope, tenant_id AS owner, -1 AS n FROM old_rows WHERE TRUE UNION ALL SELECT 'customers.active'::varchar AS scope, tenant_id AS owner, -1 AS n FROM old_rows WHERE is_active) d GROUP BY scope, owner HAVING SUM(n) <> 0;
        IF random() < 0.03 THEN PERFORM hub_rowcount_compact(t.scope, t.owner) FROM (SELECT 'customers'::varchar AS scope, tenant_id AS owner FROM new_rows UNION SELECT 'customers.active'::varchar AS scope, tenant_id AS owner FROM new_rows UNION SELECT 'customers'::varchar AS scope, tenant_id AS owner FROM old_rows UNION SELECT 'customers.active'::varchar AS scope, tenant_id AS owner FROM old_rows) t; END IF;
    END IF;
    RETURN NULL;
END $$;
""",
    "CREATE TRIGGER hub_count_customers_insert AFTER INSERT ON customers_customer REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub_count_customers()",
    "CREATE TRIGGER hub_count_customers_delete AFTER DELETE ON customers_customer REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION hub_count_customers()",
    "CREATE TRIGGER hub_count_customers_update AFTER UPDATE ON customers_customer REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION hub_count_customers()",
    "DELETE FROM tenants_rowcount WHERE scope IN ('customers', 'customers.active')",
    "INSERT INTO tenants_rowcount (scope, owner, delta) SELECT 'customers', tenant_id, COUNT(*) FROM customers_customer WHERE TRUE GROUP BY tenant_id",
    "INSERT INTO tenants_rowcount (scope, owner, delta) SELECT 'customers.active', tenant_id, COUNT(*) FROM customers_customer WHERE is_active GROUP BY tenant_id",
]

UNINSTALL = [
    "DROP TRIGGER IF EXISTS hub_count_customers_insert ON customers_customer",
    "DROP TRIGGER IF EXISTS hub_count_customers_delete ON customers_customer",
    "DROP TRIGGER IF EXISTS hub_count_customers_update ON customers_customer",
    "DROP FUNCTION IF EXISTS hub_count_customers()",
    "DELETE FROM tenants_rowcount WHERE scope IN ('customers', 'customers.active')",
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
        ("customers", "0002_postgres_search_indexes"),
        ("tenants", "0003_row_counts"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
