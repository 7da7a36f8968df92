"""The b2b app's part of ``manage.py generate`` (see customers/generate.py).

Gives an evenly spread share of the generated customers a B2B account (billing and shipping
addresses, one or two contacts, one primary) and ``--orders`` sales orders each, with one to
three lines priced from a small generated catalogue (``GEN-###`` products). With
``--heavy-orders H`` the first account of the run gets H orders instead (the benchmark's
"customer with 1,000 orders"). Order numbers are ``GEN-<customer number>-<n>``: they never
collide with the ``SO-<year>-<n>`` numbers the API allocates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from b2b.models import PAYMENT_TERM_DAYS, Account, Contact, OrderLine, SalesOrder
from customers.generate import Extension, ascii_slug, seeded_uuid, uuid7_from
from pricelists.models import Product
from pricelists.services import product_create

CENT = Decimal("0.01")
#: generated orders are dated up to this instant (never from the clock)
LAST_ORDER = datetime(2025, 12, 31, tzinfo=UTC)
CURRENCY = {"US": "USD", "GB": "GBP"}
SHIPPING = ("UPS_GROUND", "FEDEX_GROUND", "DHL_EXPRESS", "POSTNL", "PICKUP")
TITLES = ("Procurement Manager", "Finance Manager", "Owner", "Operations Manager", "Buyer")
STATUSES = (
    ["delivered"] * 60 + ["shipped"] * 10 + ["confirmed"] * 15 + ["draft"] * 5 + ["cancelled"] * 10
)
CATALOGUE = 50
DAYS = [timedelta(days=n) for n in range(91)]
LINE_COUNTS = (1, 1, 2, 3)
ADJECTIVES = ("Smart", "Pocket", "Heavy-duty", "Eco", "Pro", "Mini", "Deluxe", "Classic")
NOUNS = ("Widget", "Gadget", "Cable", "Adapter", "Charger", "Lamp", "Bracket", "Sensor", "Hub")


class B2BAccounts(Extension):
    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument(
            "--b2b",
            type=int,
            default=None,
            help="how many of the new customers get a B2B account (default: a tenth)",
        )
        parser.add_argument(
            "--orders", type=int, default=3, help="sales orders per B2B account (default 3)"
        )
        parser.add_argument(
            "--heavy-orders",
            type=int,
            default=0,
            help="orders of the first B2B account of the run instead (e.g. 1000)",
        )

    def __init__(self, run):
        super().__init__(run)
        wanted = run.options.get("b2b")
        self.total = run.count // 10 if wanted is None else max(0, wanted)
        self.orders_each = max(0, run.options.get("orders") or 0)
        self.heavy = max(0, run.options.get("heavy_orders") or 0)
        self.accounts = run.table(
            Account,
            (
                "customer_id", "website", "fax", "tax_id", "payment_terms", "currency",
                "credit_limit", "discount_rate", "preferred_shipping", "customer_since",
                "billing_address_id", "shipping_address_id", "price_list_id", "created_at",
                "updated_at",
            ),
        )  # fmt: skip
        self.contacts = run.table(
            Contact,
            (
                "id", "customer_id", "name", "title", "email", "phone", "is_primary",
                "created_at", "updated_at",
            ),
        )  # fmt: skip
        self.orders = run.table(
            SalesOrder,
            (
                "id", "tenant_id", "customer_id", "order_number", "status", "order_date",
                "ship_date", "delivery_date", "due_date", "paid_at", "currency", "total_amount",
                "items_count", "shipping_address", "created_at", "updated_at",
            ),
        )  # fmt: skip
        self.lines = run.table(
            OrderLine,
            ("id", "order_id", "product_id", "quantity", "unit_price", "line_total", "position"),
        )
        self.products = self._catalogue() if self.total else []
        self.prices = {}

    def _catalogue(self) -> list[tuple]:
        tenant = self.run.tenant
        existing = {p.sku: p for p in Product.objects.filter(tenant=tenant, sku__startswith="GEN-")}
        products = []
        for n in range(1, CATALOGUE + 1):
            sku = f"GEN-{n:03d}"
            product = existing.get(sku) or product_create(
                tenant=tenant,
                sku=sku,
                name=f"{ADJECTIVES[n % len(ADJECTIVES)]} {NOUNS[n % len(NOUNS)]} {n}",
                base_price=Decimal(100 + (n * 7919) % 9900) / 100,
            )
            products.append((product.pk, product.base_price))
        return products

    def customer(self, run, c, rng):
        position = c.index - run.start
        if not run.portion(position, self.total):
            return
        first_account = position * self.total // run.count == 0
        since = c.created_at + timedelta(days=rng.randrange(0, 30))
        billing = self._address(run, c, rng, "billing", c.addresses[0] if c.addresses else None)
        shipping = billing
        if rng.random() < 0.3:
            shipping = self._address(run, c, rng, "shipping", None)
        terms = rng.choice(list(PAYMENT_TERM_DAYS))
        currency = CURRENCY.get(c.country, "EUR")
        discount = Decimal(rng.choice((0, 0, 0, 250, 500, 750, 1000, 1500))) / 100
        company = ascii_slug(c.last_name) or "company"
        self.accounts.add(
            c.id,
            f"https://www.{company}{c.index}.example.com",
            "",
            f"{c.country}{rng.randrange(10**9):09d}B01",
            terms,
            currency,
            Decimal(rng.randrange(0, 101) * 500),
            discount,
            rng.choice(SHIPPING),
            since,
            billing[0],
            shipping[0],
            None,
            since,
            since,
        )
        for n in range(rng.choice((1, 1, 2))):
            first = c.first_name if n == 0 else rng.choice(("Alex", "Sam", "Robin", "Kim"))
            self.contacts.add(
                seeded_uuid(rng, since),
                c.id,
                f"{first} {c.last_name}",
                rng.choice(TITLES),
                f"{ascii_slug(first)}.{n}{c.index}@{company}.example.com",
                f"06{rng.randrange(10**8):08d}",
                n == 0,
                since,
                since,
            )
        count = self.orders_each
        if first_account and self.heavy:
            count = self.heavy
        snapshot = {
            part: value
            for part, value in zip(
                ("line1", "line2", "city", "state", "postal_code", "country"),
                (shipping[4], shipping[5], shipping[7], shipping[8], shipping[9], shipping[10]),
                strict=True,
            )
            if value
        }
        span = max(1, int((LAST_ORDER - since).total_seconds()))
        for n in range(count):
            self._order(run, c, rng, n, since, span, terms, currency, discount, snapshot)

    def _address(self, run, c, rng, key, template):
        if template is not None:
            row = (seeded_uuid(rng, c.created_at), c.id, key, *template[3:])
        else:
            row = (
                seeded_uuid(rng, c.created_at),
                c.id,
                key,
                c.name,
                f"Industrieweg {rng.randrange(1, 200)}",
                f"Unit {rng.randrange(1, 40)}",
                "",
                "Utrecht",
                "UT",
                f"35{rng.randrange(10, 99)}XY",
                c.country,
                c.phone,
                c.created_at,
                c.created_at,
            )
        run.addresses.add(*row)
        return row

    def _order(self, run, c, rng, n, since, span, terms, currency, discount, snapshot):
        r = rng.random
        since_ms = int(since.timestamp() * 1000)
        ordered_ms = since_ms + int(r() * span) * 1000
        ordered = since + timedelta(milliseconds=ordered_ms - since_ms)
        status = STATUSES[int(r() * len(STATUSES))]
        shipped = delivered = paid = None
        if status in ("shipped", "delivered"):
            shipped = ordered + DAYS[int(r() * 4)]
        if status == "delivered":
            delivered = shipped + DAYS[int(r() * 6)]
            if r() < 0.85:
                paid = delivered + DAYS[int(r() * 30)]
        order_id = uuid7_from(ordered_ms, rng.getrandbits(74))
        total = Decimal(0)
        items = 0
        products = self.products
        for position in range(LINE_COUNTS[int(r() * len(LINE_COUNTS))]):
            product_id, base = products[int(r() * len(products))]
            quantity = 1 + int(r() * 20)
            price = self.prices.get((product_id, discount)) or self._price(
                product_id, base, discount
            )
            line_total = price * quantity
            total += line_total
            items += quantity
            self.lines.add(
                uuid7_from(ordered_ms, rng.getrandbits(74)),
                order_id,
                product_id,
                quantity,
                price,
                line_total,
                position,
            )
        self.orders.add(
            order_id,
            run.tenant.pk,
            c.id,
            f"GEN-{c.index:08d}-{n + 1:04d}",
            status,
            ordered,
            shipped,
            delivered,
            ordered + DAYS[PAYMENT_TERM_DAYS[terms]],
            paid,
            currency,
            total,
            items,
            snapshot,
            ordered,
            ordered,
        )

    def _price(self, product_id, base, discount):
        price = (base * (100 - discount) / 100).quantize(CENT)
        self.prices[(product_id, discount)] = price
        return price

    def summary(self):
        return {
            "b2b accounts": self.accounts.written,
            "contacts": self.contacts.written,
            "sales orders": self.orders.written,
            "order lines": self.lines.written,
        }
