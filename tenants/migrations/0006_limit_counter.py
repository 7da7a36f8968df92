"""The shared store of rate limits and login lockouts without Redis (tenants/throttling.py,
``HUB_LIMITS_STORE=database``). On PostgreSQL the table is UNLOGGED: a count is written on
every request, and a crash that empties the counters is an acceptable price for no WAL flush.
"""

from django.db import migrations, models


def set_unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tenants_limitcounter SET UNLOGGED")


def set_logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tenants_limitcounter SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [("tenants", "0005_tenant_default_region")]

    operations = [
        migrations.CreateModel(
            name="LimitCounter",
            fields=[
                ("name", models.CharField(max_length=100, primary_key=True, serialize=False)),
                ("hits", models.BigIntegerField(default=0)),
                ("expires_at", models.FloatField(db_index=True)),
            ],
        ),
        migrations.RunPython(set_unlogged, set_logged, elidable=False),
    ]
