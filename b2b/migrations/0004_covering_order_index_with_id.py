"""The covering index of a customer's orders also carries their id: the figures count the
orders and the top products find their lines by it, so both read the index alone instead of
every order's heap page (docs/performance.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('b2b', '0003_covering_order_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='salesorder',
            name='salesorder_customer_figures',
        ),
        migrations.AddIndex(
            model_name='salesorder',
            index=models.Index(fields=['customer', 'status'], include=('order_date', 'due_date', 'paid_at', 'total_amount', 'id'), name='salesorder_customer_figures'),
        ),
    ]
