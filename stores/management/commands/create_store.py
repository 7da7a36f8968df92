from django.core.management.base import BaseCommand, CommandError

from stores.services import store_create
from tenants.access import find_tenant


class Command(BaseCommand):
    help = "Create a store (and the customer record that represents it)."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug or UUID")
        parser.add_argument("name")

    def handle(self, *args, tenant, name, **options):
        found = find_tenant(tenant)
        if found is None:
            raise CommandError(f"Unknown tenant {tenant!r}.")
        store = store_create(tenant=found, name=name)
        self.stdout.write(str(store.id))
