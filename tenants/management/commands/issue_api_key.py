from django.core.management.base import BaseCommand, CommandError

from tenants.access import find_tenant
from tenants.services import api_key_issue


class Command(BaseCommand):
    help = "Issue a tenant API key and print its secret (shown once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug or UUID")
        parser.add_argument("name", help="what the key is for")
        parser.add_argument("--role", choices=["agent", "viewer"], default="agent")

    def handle(self, *args, tenant, name, role, **options):
        found = find_tenant(tenant)
        if found is None:
            raise CommandError(f"Unknown tenant {tenant!r}.")
        key, secret = api_key_issue(tenant=found, name=name, role=role)
        self.stderr.write(f"API key {key.name} ({key.role}) for {found.slug}; store it now:")
        self.stdout.write(secret)
