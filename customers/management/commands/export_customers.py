"""Export the customers of one tenant as CSV (the columns import_customers reads).

python manage.py export_customers --tenant acme [-o customers.csv]
"""

import sys

from django.core.management.base import BaseCommand

from customers import csv_io
from customers.management.commands.import_customers import Progress, tenant_for
from customers.selectors import customers_for_tenant


class Command(BaseCommand):
    help = "Export a tenant's customers as CSV (to stdout, or to --output)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug or id")
        parser.add_argument("-o", "--output", help="file to write (default: stdout)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        tenant = tenant_for(options["tenant"])
        queryset = customers_for_tenant(tenant=tenant)
        total = queryset.count()
        progress = None if options["no_progress"] else Progress(total, self.stderr._out)

        def counted(customers):
            for index, customer in enumerate(customers, start=1):
                yield customer
                if progress is not None:
                    progress(index)

        customers = counted(csv_io.export_queryset(queryset))
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                csv_io.write_csv(customers, out)
            self.stderr.write(f"{total} customer(s) written to {options['output']}.")
        else:
            csv_io.write_csv(customers, self.stdout._out if self.stdout._out else sys.stdout)
