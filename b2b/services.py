"""Every write of B2B accounts, contacts, orders and credit checks (keyword-only, atomic).

A customer written through the b2b dialect is the shared ``customers.Customer`` (changed only
through ``customers.services``) plus its ``Account`` (created on demand), whose billing and
shipping addresses are the customer's ``Address`` rows with the keys ``billing`` and
``shipping``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from b2b import credit
from b2b.currencies import is_iso_4217
from b2b.error_codes import B2BErrorCode
from b2b.models import (
    ACCOUNT_FIELDS,
    ADDRESS_PARTS,
    ORDER_TRANSITIONS,
    PAYMENT_TERM_DAYS,
    Account,
    Contact,
    CreditCheck,
    OrderLine,
    OrderNumberSequence,
    OrderStatus,
    SalesOrder,
)
from b2b.selectors import account_of
from customers.models import Address, Customer
from customers.services import (
    address_set,
    customer_create,
    customer_lock,
    customer_update,
    default_address_set,
)
from pricelists.selectors import price_for, price_list_usable, price_list_verify, product_get
from tenants import errors, events
from tenants.db import violates
from tenants.error_codes import ErrorCode
from tenants.events import EventType
from tenants.money import money
from tenants.phones import phone_normalize
from tenants.transactions import service_atomic

UNSET = object()

#: customer fields the b2b dialect writes (through customers.services)
CUSTOMER_FIELDS = frozenset({"name", "email", "phone", "notes", "is_active"})
CONTACT_FIELDS = frozenset({"name", "title", "email", "phone", "is_primary"})
ADDRESS_KEYS = {"billing_address": "billing", "shipping_address": "shipping"}
MAX_MONEY = Decimal("999999999999.99")  # 12 integer digits, as the columns allow


def _invalid(
    field: str, message: str, code: str = ErrorCode.VALIDATION_ERROR
) -> errors.ValidationError:
    return errors.ValidationError(f"{field}: {message}", fields={field: [message]}, code=code)


def _check_fields(fields: dict, allowed: frozenset) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(sorted(unknown))}")


def _save(instance, update_fields=None) -> None:
    """Validate formats and lengths, then save (only ``update_fields`` when given;
    constraints are the database's last guard)."""
    try:
        instance.full_clean(
            exclude=["customer", "billing_address", "shipping_address", "price_list"],
            validate_unique=False,
            validate_constraints=False,
        )
    except DjangoValidationError as exc:
        fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        name, messages = next(iter(fields.items()))
        raise errors.ValidationError(f"{name}: {messages[0]}", fields=fields) from exc
    instance.save(update_fields=update_fields)


# --- change events (tenants.events) --------------------------------------------------------------


def _account_data(account: Account, customer: Customer) -> dict:
    return events.payload("account", account, customer=customer)


def _account_changed(account: Account, customer: Customer, before: dict) -> None:
    """``account.updated`` with the fields that changed since ``before`` (nothing: none)."""
    after = _account_data(account, customer)
    if previous := events.changed(before, after):
        events.emit_about(customer, EventType.ACCOUNT_UPDATED, after, previous)


def _contact_event(contact: Contact, type: EventType, previous=None, data=None) -> None:
    data = events.payload("contact", contact) if data is None else data
    events.emit_about(contact.customer, type, data, previous)


def _order_event(order: SalesOrder, type: EventType, previous=None) -> None:
    events.emit_about(order.customer, type, events.payload("order", order), previous)


# --- accounts -----------------------------------------------------------------------------


def _price_list_by_id(fields: dict, *, tenant_id) -> None:
    """The API names the account's price list by its id (``price_list_id``): it becomes the
    ``price_list`` field, or a 404 for one the tenant cannot use, before any other check (the
    seed's verifyPriceList())."""
    if "price_list_id" in fields:
        ref = fields.pop("price_list_id")
        fields["price_list"] = (
            None if ref is None else price_list_verify(tenant_id=tenant_id, price_list_id=ref)
        )


def _check_account_fields(fields: dict, *, tenant_id) -> None:
    if "payment_terms" in fields and fields["payment_terms"] not in PAYMENT_TERM_DAYS:
        raise _invalid(
            "payment_terms",
            f"Must be one of: {', '.join(PAYMENT_TERM_DAYS)}.",
            ErrorCode.INVALID_CHOICE,
        )
    if "currency" in fields and not is_iso_4217(fields["currency"]):
        raise _invalid("currency", "Must be an ISO 4217 currency code, such as USD.")
    if "credit_limit" in fields and not (Decimal(0) <= fields["credit_limit"] <= MAX_MONEY):
        raise _invalid("credit_limit", "Must be 0 or more.")
    if "discount_rate" in fields and not (Decimal(0) <= fields["discount_rate"] <= 100):
        raise _invalid("discount_rate", "Must be between 0 and 100.")
    if fields.get("price_list") is not None:
        price_list_usable(tenant_id=tenant_id, price_list=fields["price_list"])


def primary_contacts_check(*, contacts) -> None:
    """At most one of the contacts written together (dicts with ``is_primary``) is primary."""
    if sum(1 for c in contacts if c.get("is_primary")) > 1:
        raise _invalid("contacts", "At most one contact can be primary.")


def account_ensure(*, customer: Customer) -> Account:
    """The customer's account, created with the defaults when it has none (race-safe)."""
    account = account_of(customer)
    if account is not None:
        return account
    account = Account.objects.filter(customer=customer).first()
    if account is None:
        try:
            with transaction.atomic():
                account = Account.objects.create(
                    customer=customer, customer_since=customer.created_at
                )
        except IntegrityError:
            account = Account.objects.get(customer=customer)
    customer.account = account
    return account


def _address_write(*, customer: Customer, account: Account, attr: str, value) -> None:
    """Set (a dict: only the given parts change), or clear (None) one of the account's
    addresses, as the one-address rule says (docs/decisions/one-address.md).

    The billing address shown is the account's own, else the customer's default address:
    writing it changes that address in place (every dialect shows the change) and links it;
    a billing address written for a customer without a default address becomes the default.
    Clearing unlinks the address (the row stays with the customer); clearing the billing
    address also clears the default address it shows, so b2b shows none, as sent.
    """
    billing = attr == "billing_address"
    if value is None:
        setattr(account, attr, None)
        if billing and customer.default_address_id is not None:
            default_address_set(customer=customer, key=None)
        return
    current = getattr(account, attr)
    if current is None and billing and customer.default_address_id is not None:
        current = Address.objects.filter(pk=customer.default_address_id, customer=customer).first()
    other = account.shipping_address_id if billing else account.billing_address_id
    if current is not None and current.pk != other:
        address = address_set(customer=customer, key=current.key, **value)
    else:
        if current is not None:  # shared with the other link: change a copy of it
            value = {**{p: getattr(current, p) for p in ADDRESS_PARTS}, **value}
        address = address_set(customer=customer, key=ADDRESS_KEYS[attr], **value)
    setattr(account, attr, address)
    if billing and customer.default_address_id is None:
        default_address_set(customer=customer, key=address.key)


@service_atomic()
def account_create(
    *, tenant, billing_address=None, shipping_address=None, contacts=(), **fields
) -> Customer:
    """A new customer with its account, addresses and contacts, in one transaction. The
    account's price list is ``price_list`` (a PriceList) or ``price_list_id`` (its id)."""
    _price_list_by_id(fields, tenant_id=tenant.pk)
    _check_fields(fields, CUSTOMER_FIELDS | ACCOUNT_FIELDS)
    customer_fields = {k: v for k, v in fields.items() if k in CUSTOMER_FIELDS}
    account_fields = {k: v for k, v in fields.items() if k in ACCOUNT_FIELDS}
    if not (customer_fields.get("name") or "").strip():
        raise _invalid("name", "This field is required.", ErrorCode.REQUIRED)
    _check_account_fields(account_fields, tenant_id=tenant.pk)
    primary_contacts_check(contacts=contacts)
    customer = customer_create(tenant=tenant, **customer_fields)
    customer_lock(customer)  # once, for the addresses and contacts written below
    # the account's event says what differs from a new account's defaults
    defaults = _account_data(Account(customer=customer), customer)
    account = Account(customer=customer, **account_fields)
    if account.customer_since is None:
        account.customer_since = customer.created_at
    _address_write(
        customer=customer, account=account, attr="billing_address", value=billing_address
    )
    _address_write(
        customer=customer, account=account, attr="shipping_address", value=shipping_address
    )
    _save_with_customers_time(account, customer)
    customer.account = account
    _account_changed(account, customer, defaults)
    for index, contact in enumerate(contacts):
        try:
            contact_create(customer=customer, **contact)
        except errors.ValidationError as exc:  # name the contact: contacts.0.phone
            exc.fields = {f"contacts.{index}.{name}": m for name, m in exc.fields.items()}
            raise
    return customer


@service_atomic()
def account_update(
    *, customer: Customer, billing_address=UNSET, shipping_address=UNSET, **fields
) -> Customer:
    """Change only the given fields of the customer and its account (created on demand); the
    price list as ``account_create`` takes it."""
    _price_list_by_id(fields, tenant_id=customer.tenant_id)
    _check_fields(fields, CUSTOMER_FIELDS | ACCOUNT_FIELDS)
    if "name" in fields and not (fields["name"] or "").strip():
        raise _invalid("name", "This field may not be blank.", ErrorCode.BLANK)
    account_fields = {k: v for k, v in fields.items() if k in ACCOUNT_FIELDS}
    _check_account_fields(account_fields, tenant_id=customer.tenant_id)
    customer = customer_lock(customer)
    account = account_ensure(customer=customer)
    before = _account_data(account, customer)
    # saved even without customer fields: the record's updated_at moves with every change
    customer_update(customer=customer, **{k: v for k, v in fields.items() if k in CUSTOMER_FIELDS})
    for name, value in account_fields.items():
        setattr(account, name, value)
    changed = list(account_fields)
    if account.customer_since is None:
        account.customer_since = customer.created_at
        changed.append("customer_since")
    if billing_address is not UNSET:
        _address_write(
            customer=customer, account=account, attr="billing_address", value=billing_address
        )
        changed.append("billing_address")
    if shipping_address is not UNSET:
        _address_write(
            customer=customer, account=account, attr="shipping_address", value=shipping_address
        )
        changed.append("shipping_address")
    _save_with_customers_time(account, customer, update_fields=changed)
    _account_changed(account, customer, before)
    return customer


# --- contacts -----------------------------------------------------------------------------


def _save_with_customers_time(account: Account, customer: Customer, update_fields=None) -> None:
    """Save the account (only ``update_fields`` when given) stamped with its customer's
    ``updated_at``: one change of the record has one time, whichever dialect shows it (b2b
    shows the later of the two, the others the customer's, and ``auto_now`` would give the
    account a later instant)."""
    _save(account, update_fields=update_fields)
    Account.objects.filter(pk=account.pk).update(updated_at=customer.updated_at)
    account.updated_at = customer.updated_at


def _contact_save(contact: Contact, update_fields=None) -> None:
    """Save a contact (only ``update_fields`` when given); when it is primary, demote the
    customer's other primary first.

    The caller holds the customer's lock (``customer_lock``), so that concurrent requests
    changing the customer's contacts run one after the other; the partial unique index
    ``contact_one_primary_per_customer`` is the last guard, and its violation is a 409.
    """
    if contact.is_primary:
        others = Contact.objects.filter(customer_id=contact.customer_id, is_primary=True)
        if contact.pk is not None and not contact._state.adding:
            others = others.exclude(pk=contact.pk)
        for other in others:
            other.is_primary = False
            other.save(update_fields=["is_primary", "updated_at"])
            other.customer = contact.customer
            _contact_event(other, EventType.CONTACT_UPDATED, {"is_primary": True})
    try:
        with transaction.atomic():
            _save(contact, update_fields=update_fields)
    except IntegrityError as exc:
        if violates(exc, "contact_one_primary_per_customer", "customer_id"):
            raise errors.Conflict(
                "Another request made a different contact primary at the same time; retry.",
                code=B2BErrorCode.PRIMARY_CONTACT_CONFLICT,
            ) from exc
        raise


@service_atomic()
def contact_create(*, customer: Customer, **fields) -> Contact:
    _check_fields(fields, CONTACT_FIELDS)
    if "phone" in fields:
        fields["phone"] = phone_normalize(fields["phone"], tenant=customer.tenant)
    if not (fields.get("name") or "").strip():
        raise _invalid("name", "This field is required.", ErrorCode.REQUIRED)
    # under the customer's lock: the other primary is demoted (_contact_save), and an
    # erasure that ran meanwhile is seen (a 404, never a contact of a tombstone)
    customer_lock(customer)
    contact = Contact(customer=customer, **fields)
    _contact_save(contact)
    _contact_event(contact, EventType.CONTACT_CREATED)
    return contact


@service_atomic()
def contact_update(*, contact: Contact, **fields) -> Contact:
    """Change only the given fields (of the contact as it is under the customer's lock);
    ``is_primary=True`` demotes the previous primary."""
    _check_fields(fields, CONTACT_FIELDS)
    if "phone" in fields:
        fields["phone"] = phone_normalize(fields["phone"], tenant=contact.customer.tenant)
    if "name" in fields and not (fields["name"] or "").strip():
        raise _invalid("name", "This field may not be blank.", ErrorCode.BLANK)
    customer = customer_lock(contact.customer)
    try:
        contact.refresh_from_db()
    except Contact.DoesNotExist:
        raise errors.NotFound("Contact not found.", code=B2BErrorCode.CONTACT_NOT_FOUND) from None
    contact.customer = customer
    before = events.payload("contact", contact)
    for name, value in fields.items():
        setattr(contact, name, value)
    _contact_save(contact, update_fields=[*fields, "updated_at"])
    after = events.payload("contact", contact)
    if previous := events.changed(before, after):
        _contact_event(contact, EventType.CONTACT_UPDATED, previous, after)
    return contact


@service_atomic()
def contact_delete(*, contact: Contact) -> None:
    data = events.payload("contact", contact)
    contact.delete()
    _contact_event(contact, EventType.CONTACT_DELETED, data=data)


# --- orders -------------------------------------------------------------------------------


def order_number_allocate(*, tenant, year: int) -> str:
    """The next order number of ``tenant`` for ``year``: ``SO-<year>-<000001>``.

    The per-tenant, per-year counter row is created race-free (INSERT ... ON CONFLICT DO
    NOTHING) and locked (SELECT ... FOR UPDATE) until the caller's transaction ends, so
    concurrent orders get consecutive, unique numbers. Call inside a transaction.
    """
    qs = OrderNumberSequence.objects.select_for_update().filter(tenant=tenant, year=year)
    sequence = qs.first()
    if sequence is None:
        OrderNumberSequence.objects.bulk_create(
            [OrderNumberSequence(tenant=tenant, year=year, last_value=0)], ignore_conflicts=True
        )
        sequence = qs.get()
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return f"SO-{year}-{sequence.last_value:06d}"


def address_snapshot(address) -> dict:
    """An address as the JSON an order keeps (only the parts that are set)."""
    if address is None:
        return {}
    return {part: getattr(address, part) for part in ADDRESS_PARTS if getattr(address, part)}


def unit_price_for(*, product, account: Account | None) -> Decimal:
    """The account's price list price (else the base price), less its discount rate."""
    price_list = account.price_list if account is not None else None
    if price_list is not None and not price_list.is_active:
        price_list = None
    price = price_for(product=product, price_list=price_list)
    discount = account.discount_rate if account is not None else Decimal(0)
    return money(Decimal(price) * (Decimal(100) - discount) / Decimal(100))


def _check_dates(*, order_date, ship_date, delivery_date) -> None:
    if ship_date is not None and ship_date < order_date:
        raise _invalid("ship_date", "Cannot be before the order date.")
    if delivery_date is not None:
        if delivery_date < order_date:
            raise _invalid("delivery_date", "Cannot be before the order date.")
        if ship_date is not None and delivery_date < ship_date:
            raise _invalid("delivery_date", "Cannot be before the ship date.")


@service_atomic()
def order_create(
    *,
    tenant,
    customer: Customer,
    lines: list[dict],
    order_date: datetime | None = None,
    status: str = OrderStatus.CONFIRMED,
    shipping_address: dict | None = None,
    ship_date: datetime | None = None,
    delivery_date: datetime | None = None,
    paid_at: datetime | None = None,
) -> SalesOrder:
    """A sales order of the tenant's customer, priced and numbered by the server.

    Each line names a product (``product_id`` or ``sku``) of the tenant, a ``quantity`` > 0
    and optionally a ``unit_price``; a missing unit price is the account's price (see
    ``unit_price_for``). ``status`` may be any status (to import history); a shipped or
    delivered order without ``ship_date``/``delivery_date`` takes its ``order_date``.
    """
    if customer.tenant_id != tenant.pk:
        raise errors.NotFound("Customer not found.")
    # the order copies the customer's shipping address: under its lock, so that an erasure
    # that ran meanwhile is seen (customers/privacy.py)
    customer_lock(customer)
    if status not in ORDER_TRANSITIONS:
        raise _invalid("status", f"Must be one of: {', '.join(ORDER_TRANSITIONS)}.")
    if not lines:
        raise _invalid("lines", "An order needs at least one line.")
    account = account_of(customer)
    if account is None:
        account = Account.objects.select_related("price_list").filter(customer=customer).first()
    now = timezone.now()
    order_date = order_date or now
    if status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED) and ship_date is None:
        ship_date = order_date
    if status == OrderStatus.DELIVERED and delivery_date is None:
        delivery_date = ship_date
    _check_dates(order_date=order_date, ship_date=ship_date, delivery_date=delivery_date)
    if paid_at is not None and status in (OrderStatus.DRAFT, OrderStatus.CANCELLED):
        raise _invalid("paid_at", "A draft or cancelled order cannot be paid.")

    priced = []
    for index, line in enumerate(lines):
        try:
            if line.get("product_id") is not None:
                product = product_get(tenant=tenant, product_id=line["product_id"])
            else:
                product = product_get(tenant=tenant, sku=line.get("sku"))
        except errors.NotFound as exc:
            exc.fields = {f"lines.{index}.product_id": ["Product not found."]}
            raise
        quantity = int(line["quantity"])
        if quantity <= 0:
            raise _invalid(f"lines.{index}.quantity", "Must be greater than 0.")
        unit_price = line.get("unit_price")
        if unit_price is None:
            unit_price = unit_price_for(product=product, account=account)
        unit_price = money(unit_price)
        if unit_price < 0:
            raise _invalid(f"lines.{index}.unit_price", "Must be 0 or more.")
        priced.append((product, quantity, unit_price, money(unit_price * quantity)))
    total = sum((p[3] for p in priced), Decimal("0.00"))
    if total > MAX_MONEY or any(p[3] > MAX_MONEY for p in priced):
        raise _invalid("lines", "The order total is too large.")

    terms = account or Account()  # no account: the defaults
    if shipping_address is None:
        shipping_address = address_snapshot(account.shipping_address if account else None)
    order = SalesOrder(
        tenant=tenant,
        customer=customer,
        order_number=order_number_allocate(tenant=tenant, year=order_date.year),
        status=status,
        order_date=order_date,
        ship_date=ship_date,
        delivery_date=delivery_date,
        due_date=order_date + timedelta(days=PAYMENT_TERM_DAYS[terms.payment_terms]),
        paid_at=paid_at,
        currency=terms.currency,
        total_amount=total,
        items_count=sum(p[1] for p in priced),
        shipping_address={k: v for k, v in shipping_address.items() if v},
    )
    order.save()
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                position=position,
                product=product,
                quantity=quantity,
                unit_price=price,
                line_total=lt,
            )
            for position, (product, quantity, price, lt) in enumerate(priced)
        ]
    )
    _order_event(order, EventType.ORDER_CREATED)
    return order


@service_atomic()
def order_update(
    *, order: SalesOrder, status=UNSET, ship_date=UNSET, delivery_date=UNSET, paid_at=UNSET
) -> SalesOrder:
    """Move an order along ORDER_TRANSITIONS (an illegal move is a 409) and set its dates.

    Becoming ``shipped`` sets ``ship_date`` and becoming ``delivered`` sets ``delivery_date``
    to now, unless they are given. Repeating the current status is a no-op.
    """
    # the customer read with the order (its event names it), only the order locked
    order = (
        SalesOrder.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=order.pk)
    )
    before = events.payload("order", order)
    now = timezone.now()
    if status is not UNSET and status != order.status:
        if status not in ORDER_TRANSITIONS:
            raise _invalid("status", f"Must be one of: {', '.join(ORDER_TRANSITIONS)}.")
        if status not in ORDER_TRANSITIONS[order.status]:
            allowed = sorted(ORDER_TRANSITIONS[order.status])
            raise errors.Conflict(
                f"An order that is {order.status} cannot become {status}"
                + (f" (allowed: {', '.join(allowed)})." if allowed else "."),
                code=B2BErrorCode.INVALID_TRANSITION,
            )
        order.status = status
        if status == OrderStatus.SHIPPED and ship_date is UNSET and order.ship_date is None:
            ship_date = now
        if (
            status == OrderStatus.DELIVERED
            and delivery_date is UNSET
            and order.delivery_date is None
        ):
            delivery_date = now
    if ship_date is not UNSET:
        order.ship_date = ship_date
    if delivery_date is not UNSET:
        order.delivery_date = delivery_date
    if paid_at is not UNSET:
        if paid_at is not None and order.status in (OrderStatus.DRAFT, OrderStatus.CANCELLED):
            raise errors.Conflict(
                f"An order that is {order.status} cannot be paid.",
                code=B2BErrorCode.INVALID_PAYMENT,
            )
        order.paid_at = paid_at
    _check_dates(
        order_date=order.order_date, ship_date=order.ship_date, delivery_date=order.delivery_date
    )
    order.save(update_fields=["status", "ship_date", "delivery_date", "paid_at", "updated_at"])
    after = events.payload("order", order)
    if previous := events.changed(before, after):
        status_changed = "status" in previous
        kind = EventType.ORDER_STATUS_CHANGED if status_changed else EventType.ORDER_UPDATED
        _order_event(order, kind, previous)
    return order


# --- credit checks ------------------------------------------------------------------------


@service_atomic()
def credit_check_run(*, customer: Customer, now: datetime | None = None) -> CreditCheck:
    """Score the customer with the internal model (b2b.credit) and keep the result."""
    result = credit.assess(customer=customer, now=now or timezone.now())
    return CreditCheck.objects.create(
        customer=customer,
        inputs=result.inputs,
        factors=result.factors,
        credit_score=result.score,
        credit_rating=result.rating,
        recommended_credit_limit=result.recommended_limit,
        current_credit_limit=result.current_limit,
        risk_assessment=result.risk,
    )


# --- back-office writes (b2b/admin.py) -----------------------------------------------------------


@service_atomic()
def account_addresses_link(
    *, customer: Customer, billing_address=UNSET, shipping_address=UNSET
) -> Account:
    """Make two of the customer's own addresses (``Address`` rows, or ``None``) its account's
    billing and shipping addresses; a change of the account is a change of the customer."""
    links = {"billing_address": billing_address, "shipping_address": shipping_address}
    for name, address in links.items():
        if address not in (UNSET, None) and address.customer_id != customer.pk:
            raise _invalid(name, "Must be one of this customer's addresses.")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    account = account_ensure(customer=customer)
    before = _account_data(account, customer)
    changed = [
        name
        for name, address in links.items()
        if address is not UNSET and getattr(account, f"{name}_id") != getattr(address, "pk", None)
    ]
    if changed:
        for name in changed:
            setattr(account, name, links[name])
        customer_update(customer=customer)  # the record's updated_at moves with the change
        account.save(update_fields=changed)
        Account.objects.filter(pk=account.pk).update(updated_at=customer.updated_at)
        account.updated_at = customer.updated_at
        _account_changed(account, customer, before)
    return account
