from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from stores.models import Store
from stores.services import store_membership_grant
from tenants.ids import parse_uuid


class Command(BaseCommand):
    help = "Give a user an active relation with a store (what an agent needs to reach it)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("store", help="store UUID")

    def handle(self, *args, username, store, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Unknown user {username!r}.")
        uid = parse_uuid(store)
        found = Store.objects.filter(pk=uid).first() if uid else None
        if found is None:
            raise CommandError(f"Unknown store {store!r}.")
        store_membership_grant(user=user, store=found)
        self.stdout.write(f"{user.username} -> {found.name}")
