"""Exact counts kept by PostgreSQL triggers (tenants/counts.py): the deltas' table and the
function that merges an owner's deltas. The apps add their triggers in their own migrations.
"""

from django.db import migrations, models

from tenants import counts


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(counts.COMPACT_FUNCTION)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(counts.DROP_COMPACT_FUNCTION)


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
