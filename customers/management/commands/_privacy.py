"""What the privacy commands share: a customer of a tenant by its UUID or integer id."""

from django.core.management.base import CommandError

from customers.management.commands.import_customers import tenant_for
from customers.selectors import customer_get, customer_get_by_pk
from tenants import errors


def customer_for(tenant_ref: str, customer_ref: str):
    tenant = tenant_for(tenant_ref)
    try:
        if customer_ref.isdigit():
            return customer_get_by_pk(tenant=tenant, pk=customer_ref)
        return customer_get(tenant=tenant, customer_id=customer_ref)
    except errors.NotFound:
        raise CommandError(f"No customer {customer_ref} in tenant {tenant.slug}.") from None
