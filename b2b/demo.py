"""Demo data of the b2b dialect: accounts, contacts and order history for a few customers.

Called by ``python manage.py demo`` (settings.HUB_DEMO_SEEDS) once per tenant, after the
tenant's customers and products exist. Idempotent: a customer that already has a B2B account
is left as it is.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from b2b.models import Account
from b2b.services import account_update, contact_create, order_create, order_update
from customers.selectors import customer_find_by_email
from pricelists.models import Product

ACCOUNTS = [
    {
        "handle": "ada",
        "company": "Analytical Engines Ltd",
        "payment_terms": "net_30",
        "credit_limit": Decimal("10000.00"),
        "discount_rate": Decimal("5.00"),
        "contacts": [
            ("Alice Johnson", "Procurement Manager", True),
            ("Sarah Davis", "Finance Manager", False),
        ],
        # (days ago, status, paid after n days or None, [(product index, quantity)])
        "orders": [
            (300, "delivered", 20, [(0, 40), (1, 10)]),
            (200, "delivered", 25, [(1, 20)]),
            (120, "delivered", 28, [(0, 60), (2, 30)]),
            (45, "shipped", None, [(1, 15), (2, 10)]),
            (10, "confirmed", None, [(0, 25)]),
            (3, "cancelled", None, [(1, 5)]),
        ],
    },
    {
        "handle": "grace",
        "company": "Compiler Works Inc",
        "payment_terms": "net_15",
        "credit_limit": Decimal("2500.00"),
        "discount_rate": Decimal("0.00"),
        "contacts": [("Bob Wilson", "Operations Manager", True)],
        "orders": [
            (150, "delivered", 40, [(2, 100)]),
            (70, "delivered", None, [(1, 30)]),
            (20, "draft", None, [(0, 5)]),
        ],
    },
]


def seed(*, tenant, world) -> None:
    products = list(Product.objects.filter(tenant=tenant).order_by("sku"))
    if not products:
        return
    now = timezone.now()
    for spec in ACCOUNTS:
        email = f"{spec['handle']}@{tenant.slug}.example.com"
        customer = customer_find_by_email(tenant=tenant, email=email)
        if customer is None or Account.objects.filter(customer=customer).exists():
            continue
        address = {
            "line1": f"{len(spec['company'])} Commerce Way",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
            "country": "US",
        }
        account_update(
            customer=customer,
            website=f"https://{spec['handle']}.example.com",
            tax_id=f"98-76{len(spec['handle']):05d}",
            payment_terms=spec["payment_terms"],
            currency="USD",
            credit_limit=spec["credit_limit"],
            discount_rate=spec["discount_rate"],
            preferred_shipping="UPS_GROUND",
            customer_since=now - timedelta(days=400),
            billing_address=address,
            shipping_address=address,
            notes=f"B2B buyer for {spec['company']}",
        )
        for name, title, primary in spec["contacts"]:
            first, last = name.lower().split()
            contact_create(
                customer=customer,
                name=name,
                title=title,
                email=f"{first}.{last}@{spec['handle']}.example.com",
                phone="+1-555-0100",
                is_primary=primary,
            )
        for days_ago, status, paid_after, lines in spec["orders"]:
            order_date = now - timedelta(days=days_ago)
            order = order_create(
                tenant=tenant,
                customer=customer,
                order_date=order_date,
                status=status,
                lines=[
                    {"product_id": products[index % len(products)].pk, "quantity": quantity}
                    for index, quantity in lines
                ],
            )
            if paid_after is not None:
                order_update(order=order, paid_at=order_date + timedelta(days=paid_after))
