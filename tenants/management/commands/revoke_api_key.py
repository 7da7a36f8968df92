from django.core.management.base import BaseCommand, CommandError

from tenants.models import ApiKey
from tenants.services import api_key_revoke


class Command(BaseCommand):
    help = "Revoke an API key by its prefix (as shown in the admin) or id."

    def add_arguments(self, parser):
        parser.add_argument("key", help="the key's prefix (chk_…) or UUID")

    def handle(self, *args, key, **options):
        keys = (
            ApiKey.objects.filter(prefix=key)
            if key.startswith("chk_")
            else ApiKey.objects.filter(pk=key)
        )
        if keys.count() != 1:
            raise CommandError("No single key matches.")
        api_key_revoke(api_key=keys.get())
        self.stdout.write("revoked")
