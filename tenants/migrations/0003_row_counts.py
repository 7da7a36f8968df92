"""Exact counts kept by PostgreSQL triggers (tenants/counts.py): the deltas' table and the
function that merges an owner's deltas. The apps add their triggers in their own migrations.

The SQL is written out here, as it was when this migration was made (0004 changed the
function), so that no later edit of the app's code changes what this migration does.
"""

from django.db import migrations, models

COMPACT_FUNCTION = """
CREATE OR REPLACE FUNCTION hub_rowcount_compact(p_scope varchar, p_owner uuid)
RETURNS void LANGUAGE sql AS $$
    WITH gone AS (
        DELETE FROM tenants_rowcount WHERE id IN (
            SELECT id FROM tenants_rowcount WHERE scope = p_scope AND owner = p_owner
            FOR UPDATE SKIP LOCKED
        ) RETURNING delta
    )
    INSERT INTO tenants_rowcount (scope, owner, delta)
    SELECT p_scope, p_owner, SUM(delta) FROM gone HAVING SUM(delta) <> 0
$$;
"""
DROP_COMPACT_FUNCTION = "DROP FUNCTION IF EXISTS hub_rowcount_compact(varchar, uuid)"


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COMPACT_FUNCTION)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_COMPACT_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("tenants", "0002_idempotency_record")]

    operations = [
        migrations.CreateModel(
            name="RowCount",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "scope",
                    models.CharField(help_text="What is counted, e.g. customers.", max_length=32),
                ),
                ("owner", models.UUIDField(help_text="Whose rows: a tenant's or a store's id.")),
                ("delta", models.BigIntegerField()),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["scope", "owner"], include=("delta",), name="rowcount_owner"
                    )
                ],
            },
        ),
        migrations.RunPython(create_function, drop_function, elidable=False),
    ]
