"""The store links' part in merges (customers.merging, registered by StoresConfig.ready).

A customer has one link per store: the merged customer's links to stores the survivor is not
linked to move to the survivor; in a store both are linked to, the survivor's link stays (its
price list kept; it takes the merged link's only when it has none) and the merged link is
removed, recorded whole so that an undo puts it back with its id.
"""

from __future__ import annotations

from datetime import datetime

from customers.models import Customer
from stores.models import CustomerStore, Store


def _iso(value: datetime) -> str:
    return value.isoformat()


class StoreLinks:
    name = "store_links"

    def preview(self, *, survivor: Customer, merged: Customer) -> dict:
        shared = set(
            CustomerStore.objects.filter(customer=survivor).values_list("store_id", flat=True)
        )
        theirs = list(
            CustomerStore.objects.filter(customer=merged).values_list("store_id", flat=True)
        )
        return {
            "moved": sum(1 for store_id in theirs if store_id not in shared),
            "in_shared_stores": sum(1 for store_id in theirs if store_id in shared),
        }

    def blockers(self, *, survivor: Customer, merged: Customer) -> list[str]:
        store = Store.objects.filter(customer=merged).values_list("name", flat=True).first()
        if store is not None:
            return [
                f"The merged customer is the record of the store {store!r}: a store's own "
                "record cannot be merged away (merge the other customer into it instead)."
            ]
        return []

    def move(self, *, survivor: Customer, merged: Customer) -> dict:
        ours = {
            link.store_id: link
            for link in CustomerStore.objects.select_for_update().filter(customer=survivor)
        }
        moved, removed, price_lists = [], [], {}
        for link in CustomerStore.objects.select_for_update().filter(customer=merged):
            kept = ours.get(link.store_id)
            if kept is None:
                link.customer, link.customer_created_at = survivor, survivor.created_at
                link.save(update_fields=["customer", "customer_created_at"])
                moved.append(str(link.pk))
                continue
            if kept.price_list_id is None and link.price_list_id is not None:
                kept.price_list_id = link.price_list_id
                kept.save(update_fields=["price_list"])
                price_lists[str(kept.pk)] = str(link.price_list_id)
            removed.append(
                {
                    "id": str(link.pk),
                    "store_id": str(link.store_id),
                    "price_list_id": None
                    if link.price_list_id is None
                    else str(link.price_list_id),
                    "created_at": _iso(link.created_at),
                }
            )
            link.delete()
        return {"moved": moved, "removed": removed, "price_lists_taken": price_lists}

    def restore(self, *, survivor: Customer, merged: Customer, record: dict) -> list[str]:
        problems = []
        for link_id in record.get("moved", []):
            link = CustomerStore.objects.filter(pk=link_id, customer=survivor).first()
            if link is None:
                problems.append(f"Store link {link_id} was removed after the merge: not restored.")
                continue
            link.customer, link.customer_created_at = merged, merged.created_at
            link.save(update_fields=["customer", "customer_created_at"])
        for kept_id, price_list_id in record.get("price_lists_taken", {}).items():
            # the survivor's link gave back the merged link's price list, unless changed since
            CustomerStore.objects.filter(pk=kept_id, price_list_id=price_list_id).update(
                price_list=None
            )
        for row in record.get("removed", []):
            if not Store.objects.filter(pk=row["store_id"]).exists():
                problems.append(
                    f"Store {row['store_id']} no longer exists: its link was not restored."
                )
                continue
            link = CustomerStore(
                id=row["id"],
                customer=merged,
                store_id=row["store_id"],
                price_list_id=row["price_list_id"],
                customer_created_at=merged.created_at,
            )
            link.save(force_insert=True)
            CustomerStore.objects.filter(pk=link.pk).update(
                created_at=datetime.fromisoformat(row["created_at"])
            )
        return problems
