"""Export the customers of one tenant as CSV (the columns import_customers reads).

python manage.py export_customers --tenant acme [-o customers.csv]

Streamed in batches (customers/csv_io.py): memory stays flat whatever the number of
customers, and text cells that a spreadsheet would run as formulas are neutralised.
"""

import sys

from django.core.management.base import BaseCommand

from customers import csv_io
from customers.management.commands.import_customers import Progress, tenant_for
from customers.selectors import customers_for_tenant, customers_total


class Command(BaseCommand):
    help = "Export a tenant's customers as CSV (to stdout, or to --output)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug or id")
        parser.add_argument("-o", "--output", help="file to write (default: stdout)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        tenant = tenant_for(options["tenant"])
        queryset = customers_for_tenant(tenant=tenant)
        total = customers_total(tenant=tenant)
        progress = None if options["no_progress"] else Progress(total, self.stderr._out)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                written = csv_io.write_csv(queryset, out, progress=progress)
            self.stderr.write(f"{written} customer(s) written to {options['output']}.")
        else:
            out = self.stdout._out if self.stdout._out else sys.stdout
            csv_io.write_csv(queryset, out, progress=progress)
