"""A merge of an owner's deltas (``hub_rowcount_compact``) now always leaves a row, even when
they sum to 0, so that the set of delta rows changes with every merge: a digest of their ids
is then a version of the counted rows (tenants/counts.py ``counted``, tenants/paging.py)."""

from django.db import migrations

from tenants import counts

#: the function as 0003 made it (a sum of 0 left no row)
PREVIOUS = counts.COMPACT_FUNCTION.replace("HAVING COUNT(*) > 0", "HAVING SUM(delta) <> 0")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(counts.COMPACT_FUNCTION)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS)


class Migration(migrations.Migration):
    dependencies = [("tenants", "0003_row_counts")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
