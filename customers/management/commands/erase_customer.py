"""Erase one customer by anonymisation, irreversibly (docs/privacy.md).

python manage.py erase_customer acme 01a24ae9-9084-7c09-8cc2-aaf7f091ad76 --yes [--include-user]

Without ``--yes`` nothing is changed. Prints the receipt (ids and counts, nothing personal).
"""

import json

from django.core.management.base import BaseCommand, CommandError

from customers import privacy
from customers.management.commands._privacy import customer_for
from tenants import errors


class Command(BaseCommand):
    help = "Erase one customer's personal data everywhere (irreversible; needs --yes)."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug or id")
        parser.add_argument("customer", help="the customer's UUID or integer id")
        parser.add_argument("--yes", action="store_true", help="confirm: this is irreversible")
        parser.add_argument(
            "--include-user",
            action="store_true",
            help="also log the linked user out everywhere and anonymise that account",
        )

    def handle(self, *args, tenant, customer, yes, include_user, **options):
        person = customer_for(tenant, customer)
        if not yes:
            raise CommandError("Erasure is irreversible: confirm with --yes. Nothing changed.")
        try:
            receipt = privacy.customer_erase(customer=person, include_user=include_user)
        except errors.DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            json.dumps(
                {
                    "receipt": str(receipt.pk),
                    "customer_id": str(receipt.customer_uuid),
                    "customer_number": receipt.customer_pk,
                    "erased_at": receipt.erased_at.isoformat(),
                    "counts": receipt.counts,
                },
                indent=2,
            )
        )
