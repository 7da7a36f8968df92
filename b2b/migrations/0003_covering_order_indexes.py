"""Covering indexes for a customer's figures and analytics; no duplicate indexes.

A customer's balance, lifetime value, order count and analytics are aggregates over its
counted orders, and its top products an aggregate over their lines. With the aggregated
columns included in the indexes (PostgreSQL's ``INCLUDE``; SQLite builds plain indexes),
those aggregates are index-only scans: the analytics of a customer with 1,000 orders no
longer visits 1,000 order rows and ~1,750 line rows (docs/performance.md).

The new indexes lead with the columns that the foreign keys' own indexes covered, so those
(and the duplicate ``product_id`` index of order lines) are dropped: writes maintain fewer
indexes than before. The new indexes are built before the old ones go.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("b2b", "0002_orderline_position"),
        ("customers", "0002_postgres_search_indexes"),
        ("pricelists", "0001_initial"),
        ("tenants", "0002_idempotency_record"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="orderline",
            index=models.Index(
                fields=["order"],
                include=("product", "quantity", "line_total"),
                name="orderline_order_totals",
            ),
        ),
        migrations.AddIndex(
            model_name="salesorder",
            index=models.Index(
                fields=["customer", "status"],
                include=("order_date", "due_date", "paid_at", "total_amount"),
                name="salesorder_customer_figures",
            ),
        ),
        migrations.RemoveIndex(model_name="salesorder", name="salesorder_customer_status"),
        migrations.AlterField(
            model_name="orderline",
            name="order",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="lines",
                to="b2b.salesorder",
            ),
        ),
        migrations.AlterField(
            model_name="orderline",
            name="product",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="order_lines",
                to="pricelists.product",
            ),
        ),
        migrations.AlterField(
            model_name="salesorder",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orders",
                to="customers.customer",
            ),
        ),
    ]
