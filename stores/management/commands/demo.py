"""Build the demo world (idempotent) and, with --json, print its credentials as one JSON object.

Every run issues fresh Bearer tokens and API keys. Extra per-app demo data is added by the
functions named in settings.HUB_DEMO_SEEDS (each takes ``tenant`` and ``world`` keywords).
"""

import json
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string

from customers.models import Source
from customers.selectors import customer_find_by_discord_id, customer_find_by_email
from customers.services import (
    address_set,
    client_type_create,
    customer_create,
    customer_find_or_create_by_discord,
    customer_tags_set,
    default_address_set,
    member_join,
)
from pricelists.models import PriceList, PriceListItem, Product
from pricelists.services import price_list_create, price_list_item_set, product_create
from stores.models import Store
from stores.services import customer_store_link, store_create, store_membership_grant
from tenants.models import ApiKey, Role, Tenant
from tenants.services import (
    api_key_issue,
    api_key_revoke,
    tenant_create,
    user_ensure,
    user_token_issue,
)

DEMO_PASSWORD = "hub-demo-2026"
TENANTS = [("acme", "Acme Retail"), ("globex", "Globex Wholesale")]
CLIENT_TYPES = ["friend", "donor", "vip", "press"]
PRODUCTS = [
    ("WIDGET-1", "Smart Widget", Decimal("12.50")),
    ("GADGET-2", "Pocket Gadget", Decimal("49.00")),
    ("CABLE-3", "USB-C Cable", Decimal("7.95")),
]


class Command(BaseCommand):
    help = "Build the demo world (idempotent); --json prints fresh credentials as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the credentials as JSON")

    def handle(self, *args, **options):
        with transaction.atomic():
            world = {"password": DEMO_PASSWORD, "tenants": [self.tenant(s, n) for s, n in TENANTS]}
        if options["json"]:
            self.stdout.write(json.dumps(world))
            return
        self.stdout.write(self.style.SUCCESS("Demo world ready."))
        self.stdout.write(f"Every demo user's password: {DEMO_PASSWORD}")
        for tenant in world["tenants"]:
            users = ", ".join(f"{u['username']} ({u['role']})" for u in tenant["users"])
            self.stdout.write(f"  tenant {tenant['slug']}: {users}")
            self.stdout.write(f"    API key: {tenant['api_key']}")
            self.stdout.write("    stores: " + ", ".join(s["id"] for s in tenant["stores"]))

    def tenant(self, slug, name) -> dict:
        tenant = Tenant.objects.filter(slug=slug).first() or tenant_create(
            slug=slug,
            name=name,
            default_region="NL",  # the demo's phones are Dutch
        )
        for ct in CLIENT_TYPES:
            client_type_create(tenant=tenant, name=ct)

        price_lists = {}
        for pl_name, active in (("Retail", True), ("Legacy", False), ("Wholesale", True)):
            price_lists[pl_name] = PriceList.objects.filter(
                tenant=tenant, name=pl_name
            ).first() or price_list_create(tenant=tenant, name=pl_name, is_active=active)
        products = []
        for sku, pname, price in PRODUCTS:
            product = Product.objects.filter(tenant=tenant, sku=sku).first() or product_create(
                tenant=tenant, sku=sku, name=pname, base_price=price
            )
            products.append(product)
            if not PriceListItem.objects.filter(
                price_list=price_lists["Wholesale"], product=product
            ).exists():
                price_list_item_set(
                    price_list=price_lists["Wholesale"],
                    product=product,
                    price=price * Decimal("0.8"),
                )

        stores = []
        for store_name in (f"{name} Downtown", f"{name} Airport"):
            store = Store.objects.filter(tenant=tenant, name=store_name).first() or store_create(
                tenant=tenant, name=store_name
            )
            stores.append(store)
        store_price_lists = [
            [price_lists["Retail"], price_lists["Legacy"]],
            [price_lists["Wholesale"]],
        ]

        users = []
        for role in (Role.ADMIN, Role.AGENT, Role.VIEWER):
            username = f"{slug}-{role}"
            user = user_ensure(
                username=username,
                password=DEMO_PASSWORD,
                email=f"{username}@example.com",
                first_name=role.label,
                last_name=name,
            )
            # the membership makes the user staff, in its role's group (tenants/roles.py)
            member_join(tenant=tenant, user=user, role=role)
            reach = stores if role == Role.ADMIN else stores[:1]
            if role != Role.ADMIN:
                store_membership_grant(user=user, store=stores[0])
            _, token = user_token_issue(user=user)
            users.append(
                {
                    "username": username,
                    "role": str(role),
                    "token": token,
                    "store_ids": [str(s.id) for s in reach],
                }
            )

        self.customers(tenant, stores, price_lists)
        for old_key in ApiKey.objects.filter(tenant=tenant, name="demo", revoked_at__isnull=True):
            api_key_revoke(api_key=old_key)
        _, api_key = api_key_issue(tenant=tenant, name="demo", role="agent")
        world = {
            "id": str(tenant.id),
            "slug": tenant.slug,
            "name": tenant.name,
            "api_key": api_key,
            "client_types": CLIENT_TYPES,
            "users": users,
            "stores": [
                {
                    "id": str(store.id),
                    "name": store.name,
                    "price_lists": [
                        {"id": str(pl.id), "name": pl.name, "is_active": pl.is_active} for pl in pls
                    ],
                }
                for store, pls in zip(stores, store_price_lists, strict=True)
            ],
            "products": [
                {"id": str(p.id), "sku": p.sku, "name": p.name, "price": str(p.base_price)}
                for p in products
            ],
        }
        for dotted in getattr(settings, "HUB_DEMO_SEEDS", []):
            import_string(dotted)(tenant=tenant, world=world)
        return world

    def customers(self, tenant, stores, price_lists):
        slug = tenant.slug
        people = [
            ("Ada", "Lovelace", "ada"),
            ("Grace", "Hopper", "grace"),
            ("Linus", "Torvalds", "linus"),
            ("Margaret", "Hamilton", "margaret"),
        ]
        for index, (first, last, handle) in enumerate(people):
            email = f"{handle}@{slug}.example.com"
            customer = customer_find_by_email(tenant=tenant, email=email)
            if customer is None:
                customer = customer_create(
                    tenant=tenant,
                    first_name=first,
                    last_name=last,
                    name=f"{first} {last}",
                    email=email,
                    phone=f"06123456{index:02d}",
                    source=Source.EMAIL,
                    credit=Decimal("25.50") * index,
                )
                address_set(
                    customer=customer,
                    key="home",
                    name=f"{first} {last}",
                    line1=f"Keizersgracht {100 + index}",
                    house_number=str(100 + index),
                    city="Amsterdam",
                    postal_code=f"10{index}5AB",
                    country="NL",
                )
                default_address_set(customer=customer, key="home")
                customer_tags_set(customer=customer, names=CLIENT_TYPES[: index % 3 + 1])
            customer_store_link(
                customer=customer,
                store=stores[index % 2],
                price_list=price_lists["Retail"] if index % 2 == 0 else None,
            )
        for n in range(3):
            discord_id = f"{slug}-80000000000000{n}"
            if customer_find_by_discord_id(tenant=tenant, discord_id=discord_id) is None:
                customer_find_or_create_by_discord(
                    tenant=tenant,
                    discord_id=discord_id,
                    discord_username=f"gamer{n}",
                    discord_display_name=f"Gamer {n}",
                    name=f"Gamer {n}",
                    source=Source.DISCORD,
                )
