from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db.models import Q

from tenants.models import Role
from tenants.services import role_group, user_roles_sync


class Command(BaseCommand):
    help = (
        "Derive every member's back-office access (staff flag, role groups) from its "
        "memberships, as the membership services do: once, for data older than them."
    )

    def handle(self, *args, **options):
        # the role groups' permissions first: a new model's (e.g. after a migration added
        # webhook endpoints) reach the existing admin group
        for role in Role.values:
            role_group(role=role)
        users = (
            get_user_model()
            .objects.filter(Q(memberships__isnull=False) | Q(is_staff=True, is_superuser=False))
            .distinct()
        )
        count = 0
        for user in users.iterator():
            user_roles_sync(user=user)
            count += 1
        self.stdout.write(f"{count} user(s) synced")
