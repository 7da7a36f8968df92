from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from customers.services import member_join
from tenants.access import find_tenant
from tenants.models import Role
from tenants.services import user_ensure


class Command(BaseCommand):
    help = (
        "Make a user a member of a tenant with a role (creates the user's customer record); "
        "the membership gives back-office access for the role. --create makes the user "
        "first (password from --password)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("tenant", help="tenant slug or UUID")
        parser.add_argument("--role", choices=Role.values, default=Role.AGENT)
        parser.add_argument("--create", action="store_true", help="create the user if missing")
        parser.add_argument("--password", default=None)
        parser.add_argument(
            "--staff",
            action="store_true",
            help="ignored: an active membership always allows back-office login",
        )

    def handle(self, *args, username, tenant, role, create, password, **options):
        found = find_tenant(tenant)
        if found is None:
            raise CommandError(f"Unknown tenant {tenant!r}.")
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            if not create:
                raise CommandError(f"Unknown user {username!r} (use --create).")
            user = user_ensure(username=username, password=password)
        membership = member_join(tenant=found, user=user, role=role)
        self.stdout.write(f"{user.username} is {membership.role} in {found.slug}")
