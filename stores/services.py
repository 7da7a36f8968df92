"""Writes of stores, store memberships and customer-store links."""

from __future__ import annotations

from types import SimpleNamespace

from django.db import connections, router
from django.db.models import Q
from django.utils import timezone

from customers.error_codes import CustomerErrorCode
from customers.models import Customer, Source
from customers.services import customer_create, customer_lock, customer_update
from pricelists.selectors import price_list_usable, price_list_verify
from stores.error_codes import StoreErrorCode
from stores.models import CustomerStore, Store, StoreMembership
from stores.selectors import customer_link_get
from tenants import errors, events
from tenants.events import EventType
from tenants.history import author_fields
from tenants.transactions import service_atomic


def _link_event(link: CustomerStore, customer, type: EventType, previous=None) -> None:
    events.emit(
        tenant=customer.tenant_id,
        type=type,
        customer_uuid=customer.uuid,
        data=events.payload("store_link", link, customer=customer),
        previous_attributes=previous,
    )


def _price_list_changed(link: CustomerStore, customer, previous_id) -> None:
    previous = {"price_list_id": None if previous_id is None else str(previous_id)}
    _link_event(link, customer, EventType.STORE_LINK_PRICE_LIST_CHANGED, previous)


@service_atomic()
def store_create(*, tenant, name: str, is_active: bool = True) -> Store:
    """A store, with the customer record that represents it (createCustomerFromStore)."""
    customer = customer_create(tenant=tenant, name=name, local_name=name, source=Source.STORE)
    return Store.objects.create(tenant=tenant, name=name, is_active=is_active, customer=customer)


@service_atomic()
def store_membership_grant(*, user, store: Store) -> StoreMembership:
    membership, _ = StoreMembership.objects.update_or_create(
        user=user, store=store, defaults={"is_active": True}
    )
    return membership


@service_atomic()
def customer_store_link(*, customer, store: Store, price_list=None) -> CustomerStore:
    """Link a customer to a store (idempotent); the price list must be usable (active, the
    store's tenant's: ``price_list_usable``)."""
    customer_lock(customer)  # a customer's links change under its lock
    if customer.tenant_id != store.tenant_id:
        raise ValueError("The customer and the store belong to different tenants.")
    if price_list is not None:
        price_list_usable(tenant_id=store.tenant_id, price_list=price_list)
    link, created = CustomerStore.objects.get_or_create(
        customer=customer,
        store=store,
        defaults={"price_list": price_list, "customer_created_at": customer.created_at},
    )
    if created:
        _link_event(link, customer, EventType.STORE_LINK_CREATED)
    elif price_list is not None and link.price_list_id != price_list.pk:
        previous_id = link.price_list_id
        link.price_list = price_list
        link.save(update_fields=["price_list"])
        _price_list_changed(link, customer, previous_id)
    return link


# --- the store dialect's writes (seed 001) ------------------------------------------------------


def _touch_customer(customer: Customer) -> None:
    """A change of the customer's store link is a change of the customer (its updatedAt).
    The caller holds the customer's lock (``customer_lock``), so times follow the commits."""
    customer.updated_at = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(updated_at=customer.updated_at)


def _link_locked(link: CustomerStore) -> CustomerStore:
    """This link read again under the customer's lock and its own (a bulk removal of the
    store's links locks them, not the customers): 404 when it was removed meanwhile."""
    customer = customer_lock(link.customer)
    link = CustomerStore.objects.select_for_update().filter(pk=link.pk).first()
    if link is None:
        raise errors.NotFound("Customer not found", code=CustomerErrorCode.CUSTOMER_NOT_FOUND)
    link.customer = customer
    return link


@service_atomic()
def store_customer_create(*, store: Store, local_name: str, price_list_id=None) -> CustomerStore:
    """A manually created customer (source MANUAL, name = local name) and its link to the
    store, with the optional default price list (verified: active, the store's tenant's, else
    404), in one transaction. Returns the link; ``link.customer`` is the customer."""
    price_list = None
    if price_list_id is not None:
        price_list = price_list_verify(tenant_id=store.tenant_id, price_list_id=price_list_id)
    customer = customer_create(
        tenant=store.tenant, name=local_name, local_name=local_name, source=Source.MANUAL
    )
    return customer_store_link(customer=customer, store=store, price_list=price_list)


@service_atomic()
def store_customer_price_list_set(
    *, store: Store, customer_id, price_list_id, name: str | None = None
) -> CustomerStore:
    """Set the default price list of a customer of this store (its link's price list) and,
    optionally, rename the customer. 404 when the customer is not linked to this store or
    the price list is missing, inactive or another tenant's."""
    link = customer_link_get(store=store, customer_id=customer_id)
    price_list = price_list_verify(tenant_id=store.tenant_id, price_list_id=price_list_id)
    link = _link_locked(link)
    customer = link.customer
    changed = link.price_list_id != price_list.pk
    if changed:
        previous_id = link.price_list_id
        link.price_list = price_list
        link.save(update_fields=["price_list"])
        _price_list_changed(link, customer, previous_id)
    # the store dialect shows the display name as ``name``: sending it back is no change
    if name is not None and name != customer.display_name:
        customer_update(customer=customer, name=name)
    elif changed:
        _touch_customer(customer)
    return link


@service_atomic()
def store_customer_price_list_remove(*, store: Store, customer_id) -> CustomerStore:
    """Clear the default price list of a customer of this store (idempotent; 404 when the
    customer is not linked to this store)."""
    link = _link_locked(customer_link_get(store=store, customer_id=customer_id))
    if link.price_list_id is not None:
        previous_id = link.price_list_id
        link.price_list = None
        link.save(update_fields=["price_list"])
        _touch_customer(link.customer)
        _price_list_changed(link, link.customer, previous_id)
    return link


def _history_record_deletions(*, model, pks: list, user=None, reason: str | None = None):
    """One ``INSERT … SELECT`` of the "-" history rows of ``model``'s rows ``pks`` (what
    simple-history's post_delete signal would record one row at a time). A single statement
    whatever the number of rows: ``bulk_create`` would split it into batches on SQLite."""
    history = model.history.model
    using = router.db_for_write(history)
    connection = connections[using]
    qn = connection.ops.quote_name
    source = {field.attname: field.column for field in model._meta.concrete_fields}
    constants = {
        "history_date": timezone.now(),
        "history_change_reason": reason,
        "history_type": "-",
        "history_user_id": getattr(user, "pk", None),
        **author_fields(),
    }
    columns, values, params = [], [], []
    for field in history._meta.concrete_fields:
        if field.primary_key and field.attname not in source:
            continue  # history_id: generated by the database
        columns.append(qn(field.column))
        if field.attname in constants:
            values.append("%s")
            params.append(field.get_db_prep_save(constants[field.attname], connection))
        else:
            values.append(qn(source[field.attname]))
    pk_field = model._meta.pk
    params.extend(pk_field.get_db_prep_value(pk, connection) for pk in pks)
    sql = "INSERT INTO {} ({}) SELECT {} FROM {} WHERE {} IN ({})".format(
        qn(history._meta.db_table),
        ", ".join(columns),
        ", ".join(values),
        qn(model._meta.db_table),
        qn(pk_field.column),
        ", ".join(["%s"] * len(pks)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@service_atomic()
def store_customers_remove(*, store: Store, customer_ids, user=None, api_key=None) -> int:
    """Remove this store's links of the customers ``customer_ids`` (public UUIDs); never the
    customers themselves, never another store's links. Ids that are not linked to this
    store are ignored; duplicates count once. Returns the number of links removed.

    Four statements whatever the number of ids: one SELECT … FOR UPDATE of the links, one
    INSERT … SELECT of their history rows ("-", as a delete through the ORM records), one
    DELETE, and one INSERT of a ``store_link.deleted`` event per link (batches of
    ``tenants.events.INSERT_BATCH`` rows).
    """
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return 0
    # the id of a customer merged away names its survivor (customers/merging.py): in the
    # same statement, the links of the customers the ids' tombstones were merged into (two
    # merges deep; a tombstone has no links of its own)
    tombstones = Customer.objects.filter(
        tenant_id=store.tenant_id, uuid__in=ids, merged_into__isnull=False
    )
    rows = list(
        CustomerStore.objects.select_for_update(of=("self",))
        .filter(store=store)
        .filter(
            Q(customer__uuid__in=ids)
            | Q(customer_id__in=tombstones.values("merged_into_id"))
            | Q(customer_id__in=tombstones.values("merged_into__merged_into_id"))
        )
        .values_list("pk", "customer__uuid", "price_list_id", "created_at")
    )
    if not rows:
        return 0
    pks = [row[0] for row in rows]
    reason = "Removed from the store in bulk"
    if api_key is not None:
        reason = f"{reason} (API key {api_key.name})"[:100]
    _history_record_deletions(model=CustomerStore, pks=pks, user=user, reason=reason)
    # A filtered DELETE without fetching rows or cascading (nothing references a link).
    removed = CustomerStore.objects.filter(pk__in=pks)._raw_delete(
        router.db_for_write(CustomerStore)
    )
    events.emit_many(
        events.event(
            tenant=store.tenant_id,
            type=EventType.STORE_LINK_DELETED,
            customer_uuid=customer_uuid,
            data=events.payload(
                "store_link",
                SimpleNamespace(
                    pk=pk, store_id=store.pk, price_list_id=price_list_id, created_at=created_at
                ),
                customer=SimpleNamespace(uuid=customer_uuid),
            ),
        )
        for pk, customer_uuid, price_list_id, created_at in rows
    )
    return removed


# --- back-office writes (stores/admin.py) --------------------------------------------------------

UNSET = object()


@service_atomic()
def store_update(*, store: Store, name=UNSET, is_active=UNSET) -> Store:
    """Rename a store or switch it off or on (only what changes is written)."""
    locked = Store.objects.select_for_update().get(pk=store.pk)
    changed = [
        field
        for field, value in (("name", name), ("is_active", is_active))
        if value is not UNSET and getattr(locked, field) != value
    ]
    if "name" in changed:
        if not (name or "").strip():
            raise errors.ValidationError(
                "name: This field may not be blank.",
                fields={"name": ["This field may not be blank."]},
            )
        locked.name = name
    if "is_active" in changed:
        locked.is_active = is_active
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    return locked


@service_atomic()
def store_membership_update(*, membership: StoreMembership, is_active: bool) -> StoreMembership:
    """Switch a user's relation with a store off or on."""
    locked = StoreMembership.objects.select_for_update().get(pk=membership.pk)
    if locked.is_active != is_active:
        locked.is_active = is_active
        locked.save(update_fields=["is_active", "updated_at"])
    return locked


@service_atomic()
def store_membership_remove(*, membership: StoreMembership) -> None:
    StoreMembership.objects.filter(pk=membership.pk).delete()


@service_atomic()
def customer_store_link_add(*, customer, store: Store, price_list=None) -> CustomerStore:
    """Link an existing customer to a store with an optional price list (the rules of
    ``customer_store_link``); a new link is a change of the customer (its updatedAt)."""
    if CustomerStore.objects.filter(customer=customer, store=store).exists():
        raise errors.ValidationError(
            "This customer is already linked to this store.",
            fields={"store": ["This customer is already linked to this store."]},
            code=StoreErrorCode.ALREADY_LINKED,
        )
    link = customer_store_link(customer=customer, store=store, price_list=price_list)
    _touch_customer(customer)
    return link


@service_atomic()
def customer_store_price_list_change(*, link: CustomerStore, price_list) -> CustomerStore:
    """Set (or clear, with ``None``) a link's price list: the store dialect's
    ``PUT``/``DELETE /customers/:id/price-list``, with their rules and their updatedAt."""
    customer_id = Customer.objects.filter(pk=link.customer_id).values_list("uuid", flat=True)[0]
    if price_list is None:
        return store_customer_price_list_remove(store=link.store, customer_id=customer_id)
    return store_customer_price_list_set(
        store=link.store, customer_id=customer_id, price_list_id=price_list.pk
    )
