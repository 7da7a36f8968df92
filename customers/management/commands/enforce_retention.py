"""Delete the history rows and events of customers erased or deactivated more than
HUB_ERASED_RETENTION_DAYS ago, and expired export bundles (customers.privacy.retention_enforce;
hub_worker runs it with its housekeeping)."""

from django.core.management.base import BaseCommand

from customers.privacy import retention_days, retention_enforce


class Command(BaseCommand):
    help = (
        "Delete history and events of customers erased or deactivated more than "
        "HUB_ERASED_RETENTION_DAYS (365) days ago."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None, help="Keep this many days instead of the setting."
        )

    def handle(self, *args, days=None, **options):
        if days is not None and days < 0:
            self.stderr.write("--days must be 0 or more.")
            raise SystemExit(2)
        done = retention_enforce(days=days)
        kept = retention_days() if days is None else days
        self.stdout.write(
            f"Older than {kept} day(s): "
            + ", ".join(f"{n} {what.replace('_', ' ')} deleted" for what, n in done.items())
            + "."
        )
