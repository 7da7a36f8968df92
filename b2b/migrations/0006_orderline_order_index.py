"""The lines' index by order no longer carries the top products' columns (product, quantity,
line total): since 0005 the top products read orderline_customer_counted, and an order's
lines are read whole, so the copies in the index were only written, never read."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('b2b', '0005_order_line_copies'),
        ('pricelists', '0001_initial'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='orderline',
            name='orderline_order_totals',
        ),
        migrations.AddIndex(
            model_name='orderline',
            index=models.Index(fields=['order'], name='orderline_order'),
        ),
    ]
