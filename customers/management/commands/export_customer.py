"""Export everything the hub holds about one customer as a zip (docs/privacy.md).

python manage.py export_customer acme 01a24ae9-9084-7c09-8cc2-aaf7f091ad76 --output c.zip

The customer by its UUID or its integer id (peppered customerId). Built at once, whatever
its size; recorded as an export (who: this command), never its data.
"""

from django.core.management.base import BaseCommand

from customers import privacy
from customers.management.commands._privacy import customer_for


class Command(BaseCommand):
    help = "Export one customer's data (a zip with customer.json and README.txt)."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug or id")
        parser.add_argument("customer", help="the customer's UUID or integer id")
        parser.add_argument("-o", "--output", required=True, help="the zip file to write")

    def handle(self, *args, tenant, customer, output, **options):
        person = customer_for(tenant, customer)
        bundle = privacy.customer_bundle(person)
        with open(output, "wb") as out:
            out.write(bundle)
        privacy.customer_export_record(
            customer=person, via="command", rows=privacy.export_rows(person)
        )
        self.stdout.write(f"Customer {person.uuid} exported to {output} ({len(bundle)} bytes).")
