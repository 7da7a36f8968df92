from django.core.management.base import BaseCommand, CommandError

from tenants import errors
from tenants.models import Tenant
from tenants.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant: create_tenant SLUG NAME [--region NL]"

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("name")
        parser.add_argument(
            "--region",
            default="",
            help="Default region of the tenant's phone numbers (e.g. NL, US); none by default.",
        )

    def handle(self, *args, slug, name, region, **options):
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(f"Tenant {slug!r} already exists.")
        try:
            tenant = tenant_create(slug=slug, name=name, default_region=region)
        except errors.DomainError as exc:
            raise CommandError(exc.message) from exc
        except Exception as exc:  # full_clean's ValidationError
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{tenant.id} {tenant.slug}")
