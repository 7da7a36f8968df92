"""The stores app's part of ``manage.py generate`` (see tests/bench/generate.py).

Links an evenly spread share of the generated customers to one store of the tenant (created,
with its representing customer, through ``store_create`` when missing); about a third of the
links carry the store's default price list. The link's random choices come from the
customer's own stream ``SALT``, made only for the linked customers.
"""

from __future__ import annotations

from pricelists.models import PriceList
from pricelists.services import price_list_create
from stores.models import CustomerStore, Store
from stores.services import store_create
from tests.bench.generate import MASK74, NULL, Extension, text, ts, uuid7_text

DEFAULT_STORE = "Generated store"
PRICE_LIST = "Generated retail"
#: this extension's random stream of a customer (see ``GenerationRun.rng_for``)
SALT = 1


class StoreLinks(Extension):
    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument(
            "--store-links",
            type=int,
            default=None,
            help="how many of the new customers to link to the store (default: a fifth)",
        )
        parser.add_argument(
            "--store",
            default=DEFAULT_STORE,
            help=f"name of the store to link them to (created when missing; default {DEFAULT_STORE!r})",
        )

    def __init__(self, run):
        super().__init__(run)
        wanted = run.options.get("store_links")
        self.total = run.count // 5 if wanted is None else max(0, wanted)
        self.store = None
        self.links = run.table(
            CustomerStore,
            (
                "id",
                "customer_id",
                "store_id",
                "price_list_id",
                "created_at",
                "customer_created_at",
                # the customer's names (what the database's triggers would copy anyway)
                "customer_name",
                "customer_local_name",
            ),
        )
        if not self.total:
            return
        tenant = run.tenant
        name = run.options.get("store") or DEFAULT_STORE
        self.store = Store.objects.filter(tenant=tenant, name=name).first() or store_create(
            tenant=tenant, name=name
        )
        price_list = PriceList.objects.filter(
            tenant=tenant, name=PRICE_LIST, is_active=True
        ).first() or price_list_create(tenant=tenant, name=PRICE_LIST)
        self.store_id = text(self.store.pk)
        self.price_list_id = text(price_list.pk)

    def customer(self, run, c):
        if not run.portion(c.index - run.start, self.total):
            return
        h = run.bits(c.index, SALT)
        uuid_bits = h & MASK74
        h, later = divmod(h >> 74, 3599)
        h, price_list = divmod(h, 100)
        linked_ms = c.created_ms + 1000 * (1 + later)  # 1 s to 1 h after the customer
        self.links.add(
            uuid7_text(linked_ms, uuid_bits),
            c.id,
            self.store_id,
            self.price_list_id if price_list < 33 else NULL,
            ts(linked_ms),
            c.created_at,
            c.name,
            c.local_name,
        )

    def summary(self):
        return {"store links": self.links.written}
