"""Delete the change events older than the retention (tenants.events.events_purge)."""

from django.core.management.base import BaseCommand

from tenants.events import events_purge, retention_days


class Command(BaseCommand):
    help = "Delete change events older than HUB_EVENTS_RETENTION_DAYS (30 days by default)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep this many days instead of HUB_EVENTS_RETENTION_DAYS.",
        )

    def handle(self, *args, days=None, **options):
        if days is not None and days < 0:
            self.stderr.write("--days must be 0 or more.")
            raise SystemExit(2)
        deleted = events_purge(days=days)
        kept = retention_days() if days is None else days
        self.stdout.write(f"Deleted {deleted} event(s) older than {kept} day(s).")
