"""Delete expired Idempotency-Key records (tenants/idempotency.py); run it daily."""

from django.core.management.base import BaseCommand

from tenants.idempotency import purge_expired


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than HUB_IDEMPOTENCY_TTL_HOURS (24 h)."

    def handle(self, *args, **options):
        deleted = purge_expired()
        self.stdout.write(f"Deleted {deleted} expired idempotency record(s).")
