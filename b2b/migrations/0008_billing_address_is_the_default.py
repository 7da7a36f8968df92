"""A customer whose account has a billing address but who has no default address gets that
billing address as its default: the address every dialect shows as the customer's
(docs/decisions/one-address.md). Customers with a default address keep it."""

from django.db import migrations

SQL = """
UPDATE customers_customer
SET default_address_id = (
    SELECT a.billing_address_id FROM b2b_account a WHERE a.customer_id = customers_customer.id
)
WHERE default_address_id IS NULL
  AND id IN (SELECT customer_id FROM b2b_account WHERE billing_address_id IS NOT NULL)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("b2b", "0007_contact_phones_in_e164"),
        ("customers", "0005_phones_in_e164"),
    ]

    operations = [migrations.RunSQL(SQL, migrations.RunSQL.noop, elidable=True)]
