"""The b2b app's part of ``manage.py generate`` (see tests/bench/generate.py).

Gives an evenly spread share of the generated customers a B2B account (billing and shipping
addresses, one or two contacts, one primary) and ``--orders`` sales orders each, with one to
three lines priced from a small generated catalogue (``GEN-###`` products). With
``--heavy-orders H`` the first account of the run gets H orders instead (the benchmark's
"customer with 1,000 orders"). Order numbers are ``GEN-<customer number>-<n>``: they never
collide with the ``SO-<year>-<n>`` numbers the API allocates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from b2b.models import PAYMENT_TERM_DAYS, Account, Contact, OrderLine, SalesOrder
from pricelists.models import Product
from pricelists.services import product_create
from tests.bench.generate import (
    NULL,
    Extension,
    ascii_slug,
    day_and_clock,
    day_text,
    money,
    text,
    ts,
    uuid7_text,
)

CENT = Decimal("0.01")
#: generated orders are dated up to this instant (never from the clock)
LAST_ORDER = datetime(2025, 12, 31, tzinfo=UTC)
LAST_ORDER_MS = int(LAST_ORDER.timestamp() * 1000)
DAY_MS = 86_400_000
#: this extension's random stream of a customer (see ``GenerationRun.rng_for``)
SALT = 2
CURRENCY = {"US": "USD", "GB": "GBP"}
SHIPPING = ("UPS_GROUND", "FEDEX_GROUND", "DHL_EXPRESS", "POSTNL", "PICKUP")
TITLES = ("Procurement Manager", "Finance Manager", "Owner", "Operations Manager", "Buyer")
STATUSES = (
    ["delivered"] * 60 + ["shipped"] * 10 + ["confirmed"] * 15 + ["draft"] * 5 + ["cancelled"] * 10
)
CATALOGUE = 50
LINE_COUNTS = (1, 1, 2, 3)
#: discounts in basis points (hundredths of a percent)
DISCOUNTS = (0, 0, 0, 250, 500, 750, 1000, 1500)
TERMS = tuple(PAYMENT_TERM_DAYS.items())
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
            (
                "id", "order_id", "product_id", "quantity", "unit_price", "line_total", "position",
                "order_customer_id", "order_date", "order_status",
            ),
        )  # fmt: skip
        self.products = self._catalogue() if self.total else []
        #: (product index, discount) -> unit price in cents
        self.prices: dict[tuple[int, int], int] = {}

    def _catalogue(self) -> list[tuple[str, Decimal]]:
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
            products.append((text(product.pk), product.base_price))
        return products

    def customer(self, run, c):
        position = c.index - run.start
        if not run.portion(position, self.total):
            return
        rng = run.rng_for(c.index, SALT)
        r = rng.random
        first_account = position * self.total // run.count == 0
        since_ms = c.created_ms + DAY_MS * int(r() * 30)
        since = ts(since_ms)
        billing = self._address(c, rng, "billing", c.addresses[0] if c.addresses else None)
        shipping = billing
        if r() < 0.3:
            shipping = self._address(c, rng, "shipping", None)
        terms, term_days = TERMS[int(r() * len(TERMS))]
        currency = CURRENCY.get(c.country, "EUR")
        discount = DISCOUNTS[int(r() * len(DISCOUNTS))]
        company = ascii_slug(c.last_name) or "company"
        self.accounts.add(
            c.id,
            f"https://www.{company}{c.index}.example.com",
            "",
            f"{c.country}{int(r() * 10**9):09d}B01",
            terms,
            currency,
            str(int(r() * 101) * 500),
            money(discount),
            SHIPPING[int(r() * len(SHIPPING))],
            since,
            billing[0],
            shipping[0],
            NULL,
            since,
            since,
        )
        for n in range(1 if r() < 2 / 3 else 2):
            first = c.first_name if n == 0 else ("Alex", "Sam", "Robin", "Kim")[int(r() * 4)]
            self.contacts.add(
                uuid7_text(since_ms, rng.getrandbits(74)),
                c.id,
                f"{first} {c.last_name}",
                TITLES[int(r() * len(TITLES))],
                f"{ascii_slug(first)}.{n}{c.index}@{company}.example.com",
                f"06{int(r() * 10**8):08d}",
                "t" if n == 0 else "f",
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
        span_s = max(1, (LAST_ORDER_MS - since_ms) // 1000)
        order = self._order
        for n in range(count):
            order(c, rng, n, since_ms, span_s, term_days, currency, discount, snapshot)

    def _address(self, c, rng, key, template):
        if template is not None:
            row = (uuid7_text(c.created_ms, rng.getrandbits(74)), c.id, key, *template[3:])
        else:
            r = rng.random
            row = (
                uuid7_text(c.created_ms, rng.getrandbits(74)),
                c.id,
                key,
                c.name,
                f"Industrieweg {1 + int(r() * 199)}",
                f"Unit {1 + int(r() * 39)}",
                "",
                "Utrecht",
                "UT",
                f"35{10 + int(r() * 89)}XY",
                c.country,
                c.phone,
                c.created_at,
                c.created_at,
            )
        self.run.addresses.add(*row)
        return row

    def _order(self, c, rng, n, since_ms, span_s, term_days, currency, discount, snapshot):
        r = rng.random
        ordered_ms = since_ms + int(r() * span_s) * 1000
        day, clock = day_and_clock(ordered_ms)  # every date of an order: the same time of day
        ordered = day_text(day) + clock
        status = STATUSES[int(r() * len(STATUSES))]
        shipped = delivered = paid = NULL
        if status == "shipped" or status == "delivered":
            shipped_day = day + int(r() * 4)
            shipped = day_text(shipped_day) + clock
            if status == "delivered":
                delivered_day = shipped_day + int(r() * 6)
                delivered = day_text(delivered_day) + clock
                if r() < 0.85:
                    paid = day_text(delivered_day + int(r() * 30)) + clock
        order_id = uuid7_text(ordered_ms, rng.getrandbits(74))
        total = items = 0
        products = self.products
        prices = self.prices
        add_line = self.lines.add
        for position in range(LINE_COUNTS[int(r() * len(LINE_COUNTS))]):
            product = int(r() * len(products))
            quantity = 1 + int(r() * 20)
            price = prices.get((product, discount)) or self._price(product, discount)
            line_total = price * quantity
            total += line_total
            items += quantity
            add_line(
                uuid7_text(ordered_ms, rng.getrandbits(74)),
                order_id,
                products[product][0],
                str(quantity),
                money(price),
                money(line_total),
                str(position),
                c.id,  # the order's copies (b2b/migrations/0005; its trigger checks them)
                ordered,
                status,
            )
        self.orders.add(
            order_id,
            self.run.tenant_id,
            c.id,
            f"GEN-{c.index:08d}-{n + 1:04d}",
            status,
            ordered,
            shipped,
            delivered,
            day_text(day + term_days) + clock,
            paid,
            currency,
            money(total),
            str(items),
            snapshot,
            ordered,
            ordered,
        )

    def _price(self, product: int, discount: int) -> int:
        """The unit price in cents: the base price less the discount, rounded to the cent."""
        base = self.products[product][1]
        price = (base * (10_000 - discount) / 10_000).quantize(CENT)
        self.prices[(product, discount)] = cents = int(price * 100)
        return cents

    def summary(self):
        return {
            "b2b accounts": self.accounts.written,
            "contacts": self.contacts.written,
            "sales orders": self.orders.written,
            "order lines": self.lines.written,
        }
