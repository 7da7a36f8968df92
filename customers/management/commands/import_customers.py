"""Import customers of one tenant from a CSV file (see customers/csv_io.py for the columns).

    python manage.py import_customers --tenant acme customers.csv [--dry-run]

A dry run checks every row and writes nothing; a real run is all or nothing. Every invalid
row is reported with its line number; the exit status is 1 when there is any.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from customers import csv_io
from customers.services import customers_import
from tenants.history import history_context
from tenants.models import Tenant


class Progress:
    """A text progress bar on stderr (redrawn in place on a terminal)."""

    def __init__(self, total: int, stream, width: int = 30):
        self.total, self.stream, self.width = max(total, 1), stream, width
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.step = max(self.total // 20, 1)

    def __call__(self, done: int) -> None:
        if not self.tty and done % self.step and done != self.total:
            return
        filled = self.width * done // self.total
        bar = "#" * filled + "-" * (self.width - filled)
        end = "" if self.tty and done < self.total else "\n"
        self.stream.write(f"\r[{bar}] {done}/{self.total}{end}")
        self.stream.flush()


class Command(BaseCommand):
    help = "Import customers of a tenant from CSV (all or nothing; --dry-run writes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file (UTF-8, header row), or - for stdin")
        parser.add_argument("--tenant", required=True, help="tenant slug or id")
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        tenant = tenant_for(options["tenant"])
        try:
            if options["path"] == "-":
                rows = csv_io.read_rows(sys.stdin)
            else:
                with open(options["path"], encoding="utf-8-sig", newline="") as stream:
                    rows = csv_io.read_rows(stream)
        except OSError as exc:
            raise CommandError(f"Cannot read {options['path']}: {exc.strerror}") from None
        except (csv_io.CsvFormatError, UnicodeDecodeError) as exc:
            raise CommandError(str(exc)) from None
        progress = None if options["no_progress"] else Progress(len(rows), self.stderr._out)
        with history_context(origin="manage.py import_customers"):
            report = customers_import(
                tenant=tenant, rows=rows, dry_run=options["dry_run"], progress=progress
            )
        for line, message in report.errors:
            self.stderr.write(f"line {line}: {message}")
        if report.errors:
            raise CommandError(
                f"{len(report.errors)} invalid row(s) of {len(rows)}: nothing was written."
            )
        verb = "would be" if report.dry_run else "were"
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(rows)} row(s) valid: {report.created} customer(s) {verb} created, "
                f"{report.updated} {verb} updated."
                + (" Dry run: nothing was written." if report.dry_run else "")
            )
        )


def tenant_for(value: str) -> Tenant:
    from tenants.ids import parse_uuid

    uid = parse_uuid(value)
    tenant = Tenant.objects.filter(pk=uid).first() if uid else None
    tenant = tenant or Tenant.objects.filter(slug=value).first()
    if tenant is None:
        raise CommandError(f"Unknown tenant {value!r}.")
    return tenant
