"""The B2B records' part in merges (customers.merging, registered by B2bConfig.ready): the
account, contacts, orders and credit checks of the merged customer move to the survivor.

Two accounts in different currencies block a merge (their orders and limits would mix
currencies). When both have an account, the survivor's is kept and the merged customer's
stays with its tombstone (nothing of it is lost; an undo finds it there); when only the
merged customer has one, it moves. Of two primary contacts, the survivor's stays primary.
"""

from __future__ import annotations

from b2b.models import Account, Contact, CreditCheck, SalesOrder
from customers.models import Customer


def _ids(qs) -> list[str]:
    return [str(pk) for pk in qs.values_list("pk", flat=True)]


class B2bRecords:
    name = "b2b"

    def preview(self, *, survivor: Customer, merged: Customer) -> dict:
        ours = Account.objects.filter(customer=survivor).exists()
        theirs = Account.objects.filter(customer=merged).exists()
        return {
            "account": "moved" if theirs and not ours else ("kept_on_merged" if theirs else "none"),
            "contacts": Contact.objects.filter(customer=merged).count(),
            "orders": SalesOrder.objects.filter(customer=merged).count(),
            "credit_checks": CreditCheck.objects.filter(customer=merged).count(),
        }

    def blockers(self, *, survivor: Customer, merged: Customer) -> list[str]:
        currencies = dict(
            Account.objects.filter(customer__in=[survivor, merged]).values_list(
                "customer_id", "currency"
            )
        )
        ours, theirs = currencies.get(survivor.pk), currencies.get(merged.pk)
        if ours and theirs and ours != theirs:
            return [f"The two B2B accounts are in different currencies ({ours} and {theirs})."]
        return []

    def move(self, *, survivor: Customer, merged: Customer) -> dict:
        record = {}
        has_account = Account.objects.filter(customer=survivor).exists()
        if not has_account and Account.objects.filter(customer=merged).exists():
            # the account's primary key is its customer: the row moves by its key
            Account.objects.filter(customer=merged).update(customer=survivor)
            record["account_moved"] = True
        demoted = None
        if Contact.objects.filter(customer=survivor, is_primary=True).exists():
            demoted = (
                Contact.objects.filter(customer=merged, is_primary=True)
                .values_list("pk", flat=True)
                .first()
            )
            if demoted is not None:
                Contact.objects.filter(pk=demoted).update(is_primary=False)
        record["contact_demoted"] = None if demoted is None else str(demoted)
        for key, model in (
            ("contacts", Contact),
            ("orders", SalesOrder),
            ("credit_checks", CreditCheck),
        ):
            qs = model.objects.filter(customer=merged)
            record[key] = _ids(qs)
            qs.update(customer=survivor)
        return record

    def restore(self, *, survivor: Customer, merged: Customer, record: dict) -> list[str]:
        problems = []
        for key, model, label in (
            ("contacts", Contact, "Contact"),
            ("orders", SalesOrder, "Order"),
            ("credit_checks", CreditCheck, "Credit check"),
        ):
            ids = record.get(key, [])
            back = model.objects.filter(pk__in=ids, customer=survivor)
            gone = set(ids) - set(_ids(back))
            back.update(customer=merged)
            problems += [
                f"{label} {pk} of the merged record was removed after the merge: not restored."
                for pk in sorted(gone)
            ]
        demoted = record.get("contact_demoted")
        if demoted and not Contact.objects.filter(customer=merged, is_primary=True).exists():
            Contact.objects.filter(pk=demoted, customer=merged).update(is_primary=True)
        if record.get("account_moved"):
            if Account.objects.filter(customer=merged).exists():
                problems.append("The merged record has an account again: the moved one stays.")
            else:
                Account.objects.filter(customer=survivor).update(customer=merged)
        return problems
