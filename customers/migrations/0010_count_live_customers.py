"""The tenant's customer counts (customers/migrations/0003) count live customers only: a
tombstone (merged away, issue 20, or erased, issue 22) is not one of the tenant's customers
(customers.models.LIVE), so the b2b list's kept total matches what the list shows. The same
trigger as 0003 with the rows filtered, and the counts made again from the rows.

The SQL is written out here, as in 0003, so that no later edit of the app's code changes
what this migration does.
"""

from django.db import migrations

LIVE = "merged_into_id IS NULL AND erased_at IS NULL"


def _function(live: str) -> str:
    every, active = live, f"is_active AND {live}"
    return f"""
CREATE OR REPLACE FUNCTION hub_count_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tenants_rowcount (scope, owner, delta) SELECT scope, owner, SUM(n) FROM (SELECT 'customers'::varchar AS scope, tenant_id AS owner, +1 AS n FROM new_rows WHERE {every} UNION ALL SELECT 'customers.active'::varchar AS scope, tenant_id AS owner, +1 AS n FROM new_rows WHERE {active}) d GROUP BY scope, owner HAVING SUM(n) <> 0;
        IF random() < 0.03 THEN PERFORM hub_rowcount_compact(t.scope, t.owner) FROM (SELECT 'customers'::varchar AS scope, tenant_id AS owner FROM new_rows UNION SELECT 'customers.active'::varchar AS scope, tenant_id AS owner FROM new_rows) t; END IF;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO tenants_rowcount (scope, owner, delta) SELECT scope, owner, SUM(n) FROM (SELECT 'customers'::varchar AS scope, tenant_id AS owner, -1 AS n FROM old_rows WHERE {every} UNION ALL SELECT 'customers.active'::varchar AS scope, tenant_id AS owner, -1 AS n FROM old_rows WHERE {active}) d GROUP BY scope, owner HAVING SUM(n) <> 0;
        IF random() < 0.03 THEN PERFORM hub_rowcount_compact(t.scope, t.owner) FROM (SELECT 'customers'::varchar AS scope, tenant_id AS owner FROM old_rows UNION SELECT 'customers.active'::varchar AS scope, tenant_id AS owner FROM old_rows) t; END IF;
    ELSE
        INSERT INTO tenants_rowcount (scope, owner, delta) SELECT scope, owner, SUM(n) FROM (SELECT 'customers'::varchar AS scope, tenant_id AS owner, +1 AS n FROM new_rows WHERE {every} UNION ALL SELECT 'customers.active'::varchar AS scope, tenant_id AS owner, +1 AS n FROM new_rows WHERE {active} UNION ALL SELECT 'customers'::varchar AS scope, tenant_id AS owner, -1 AS n FROM old_rows WHERE {every} UNION ALL SELECT 'customers.active'::varchar AS scope, tenant_id AS owner, -1 AS n FROM old_rows WHERE {active}) d GROUP BY scope, owner HAVING SUM(n) <> 0;
        IF random() < 0.03 THEN PERFORM hub_rowcount_compact(t.scope, t.owner) FROM (SELECT 'customers'::varchar AS scope, tenant_id AS owner FROM new_rows UNION SELECT 'customers.active'::varchar AS scope, tenant_id AS owner FROM new_rows UNION SELECT 'customers'::varchar AS scope, tenant_id AS owner FROM old_rows UNION SELECT 'customers.active'::varchar AS scope, tenant_id AS owner FROM old_rows) t; END IF;
    END IF;
    RETURN NULL;
END $$;
"""


def _recount(live: str) -> list[str]:
    return [
        "LOCK TABLE customers_customer IN SHARE ROW EXCLUSIVE MODE",
        _function(live),
        "DELETE FROM tenants_rowcount WHERE scope IN ('customers', 'customers.active')",
        "INSERT INTO tenants_rowcount (scope, owner, delta) SELECT 'customers', tenant_id, "
        f"COUNT(*) FROM customers_customer WHERE {live} GROUP BY tenant_id",
        "INSERT INTO tenants_rowcount (scope, owner, delta) SELECT 'customers.active', "
        f"tenant_id, COUNT(*) FROM customers_customer WHERE is_active AND {live} "
        "GROUP BY tenant_id",
    ]


INSTALL = _recount(LIVE)
UNINSTALL = _recount("TRUE")  # 0003's function and counts


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in INSTALL:
            schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in UNINSTALL:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("customers", "0009_merges")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
