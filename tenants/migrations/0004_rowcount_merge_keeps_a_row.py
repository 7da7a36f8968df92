"""A merge of an owner's deltas (``hub_rowcount_compact``) now always leaves a row, even when
they sum to 0, so that the set of delta rows changes with every merge: a digest of their ids
is then a version of the counted rows (tenants/counts.py ``counted``, tenants/paging.py)."""

from django.db import migrations

#: the function as this migration makes it (written out, as in 0003)
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
    SELECT p_scope, p_owner, SUM(delta) FROM gone HAVING COUNT(*) > 0
$$;
"""
#: the function as 0003 made it (a sum of 0 left no row)
PREVIOUS = COMPACT_FUNCTION.replace("HAVING COUNT(*) > 0", "HAVING SUM(delta) <> 0")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COMPACT_FUNCTION)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS)


class Migration(migrations.Migration):
    dependencies = [("tenants", "0003_row_counts")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
