"""Every write of customers, addresses and client-type tags (keyword-only, atomic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers import identity
from customers.error_codes import CustomerErrorCode
from customers.identity import DISCORD, EMAIL, USER
from customers.models import Address, ClientType, Customer, Source
from tenants import errors, events
from tenants.db import violates
from tenants.events import EventType
from tenants.history import history_context
from tenants.ids import parse_uuid
from tenants.models import Membership, Role
from tenants.phones import phone_normalize
from tenants.services import membership_grant
from tenants.transactions import row_lock_held, row_lock_taken, service_atomic

CUSTOMER_FIELDS = frozenset(
    {
        "name",
        "local_name",
        "first_name",
        "last_name",
        "salutation",
        "preposition",
        "email",
        "phone",
        "discord_id",
        "discord_username",
        "discord_display_name",
        "source",
        "user",
        "notes",
        "external_id",
        "credit",
        "is_active",
    }
)
ADDRESS_FIELDS = frozenset(
    {"name", "line1", "line2", "house_number", "city", "state", "postal_code", "country", "phone"}
)
EMAIL_TAKEN = identity.EMAIL_TAKEN


def _validation_error(exc: DjangoValidationError) -> errors.ValidationError:
    fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    first = next(iter(fields.items()), ("", ["Invalid input."]))
    return errors.ValidationError(f"{first[0]}: {first[1][0]}", fields=fields)


def _check_fields(fields: dict, allowed: frozenset) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(sorted(unknown))}")


def _translate_integrity(exc: IntegrityError) -> errors.DomainError:
    if violates(exc, "identifier_unique_value", "tenant_id", "kind", "value"):
        # identity.identifiers_add inserts with ON CONFLICT DO NOTHING and names the holder;
        # this is a writer that inserted an identifier without it: the kind's own error when
        # the database says which kind (PostgreSQL's detail), a generic one otherwise
        kind = identity.kind_of_violation(exc)
        if kind in identity.STRICT:
            return identity.taken_error(kind, None)
        return errors.Conflict(
            "An identifier of this record already belongs to another customer.",
            code=CustomerErrorCode.IDENTIFIER_TAKEN,
        )
    if violates(exc, "customer_unique_email_ci"):
        return errors.ValidationError(
            EMAIL_TAKEN, fields={"email": [EMAIL_TAKEN]}, code=CustomerErrorCode.EMAIL_TAKEN
        )
    if violates(exc, "customer_unique_discord_id", "tenant_id", "discord_id"):
        return errors.Conflict(
            "A customer with this Discord id already exists.",
            code=CustomerErrorCode.DISCORD_ID_TAKEN,
        )
    if violates(exc, "customer_unique_user", "tenant_id", "user_id"):
        return errors.ValidationError(
            "This user is already linked to another customer.",
            fields={"user": ["This user is already linked to another customer."]},
            code=CustomerErrorCode.USER_TAKEN,
        )
    if violates(exc, "address_unique_key", "customer_id", "key"):
        return errors.ValidationError(
            "An address with this addressId already exists for this customer.",
            fields={"addressId": ["An address with this addressId already exists."]},
            code=CustomerErrorCode.ADDRESS_EXISTS,
        )
    return errors.Conflict("The change conflicts with existing data.")


#: the customers' services: one transaction, and an IntegrityError (also at COMMIT) is a domain
#: error (tenants/transactions.py)
_atomic = service_atomic(_translate_integrity)


def customer_lock(customer: Customer, *, tombstone: bool = False) -> Customer:
    """Lock the customer's row until the transaction ends, and read it again into ``customer``
    (in place: the caller's instance shows the record as it now is). Every read-modify-write
    of a customer, of its addresses, tags, store links, account and contacts starts here, so
    it decides on what is committed and never writes back what another writer changed.

    PostgreSQL: ``FOR NO KEY UPDATE`` excludes the other writers of the record and still lets
    rows that refer to it (addresses, orders, contacts) be inserted meanwhile. SQLite: the
    IMMEDIATE transaction already holds the database's write lock; the fresh read is what
    counts. Call it inside a transaction, before any other write of the record's rows.

    A customer merged away while the caller waited for the lock (customers/merging.py) is a
    409 ``customer_merged``: its writes would land on a tombstone. Only the merge services
    lock tombstones (``tombstone=True``).
    """
    if row_lock_held(customer):  # by the service that called this one
        return customer
    try:
        customer.refresh_from_db(from_queryset=Customer.objects.select_for_update(no_key=True))
    except Customer.DoesNotExist:
        raise errors.NotFound("Customer not found.") from None
    if customer.erased_at is not None:  # erased while the caller waited (customers/privacy.py)
        raise errors.NotFound("Customer not found.")
    if customer.merged_into_id is not None and not tombstone:
        raise errors.Conflict(
            "The customer was merged into another customer meanwhile: use the survivor "
            "(its old id now answers as the survivor).",
            code=CustomerErrorCode.CUSTOMER_MERGED,
        )
    row_lock_taken(customer)
    return customer


def _save(instance, *, exclude=(), update_fields=None) -> None:
    """Validate field formats and lengths, then save (only ``update_fields`` when given);
    constraint violations become domain errors."""
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except DjangoValidationError as exc:
        raise _validation_error(exc) from exc
    try:
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise _translate_integrity(exc) from exc


_CUSTOMER_CLEAN_EXCLUDE = ("tenant", "user", "default_address", "tags")


# --- change events (tenants.events) --------------------------------------------------------------


def customer_data(customer: Customer) -> dict:
    return events.payload("customer", customer)


def customer_changed(customer: Customer, before: dict) -> None:
    """Emit what changed in the customer since ``before`` (its ``customer_data``): a change of
    ``is_active`` is ``customer.deactivated``/``reactivated``, the other fields that changed
    are one ``customer.updated``; nothing when nothing changed."""
    after = customer_data(customer)
    previous = events.changed(before, after)
    if "is_active" in previous:
        activity = {"is_active": previous.pop("is_active")}
        kind = (
            EventType.CUSTOMER_REACTIVATED if customer.is_active else EventType.CUSTOMER_DEACTIVATED
        )
        events.emit_about(customer, kind, after, activity)
    if previous:
        events.emit_about(customer, EventType.CUSTOMER_UPDATED, after, previous)


def address_data(address: Address, customer: Customer) -> dict:
    return events.payload("address", address, customer=customer)


def _customer_fields_clean(fields: dict, *, tenant) -> dict:
    """The write's fields as stored: the phone in E.164, the email stripped."""
    if "phone" in fields:
        fields["phone"] = phone_normalize(fields["phone"], tenant=tenant)
    if "email" in fields:
        fields["email"] = (fields["email"] or "").strip()
    return fields


@_atomic
def customer_create(*, tenant, **fields) -> Customer:
    """A new customer with its identifiers (customers/identity.py): an email, Discord id or
    user another customer holds is refused (its error names that customer)."""
    _check_fields(fields, CUSTOMER_FIELDS)
    fields.setdefault("source", Source.API)
    _customer_fields_clean(fields, tenant=tenant)
    identity.identifiers_check(tenant_id=tenant.pk, values=identity.values_of_fields(fields))
    return _customer_insert(tenant=tenant, fields=fields)


def _customer_insert(*, tenant, fields: dict) -> Customer:
    """``customer_create`` after its checks (find-or-create has made them already)."""
    customer = Customer(tenant=tenant, **fields)
    _save(customer, exclude=_CUSTOMER_CLEAN_EXCLUDE)
    identity.identifiers_sync(customer=customer, before=None)
    events.emit_about(customer, EventType.CUSTOMER_CREATED, customer_data(customer))
    return customer


@_atomic
def customer_update(*, customer: Customer, **fields) -> Customer:
    """Change only the given fields (of the record as it is under the lock). A changed email,
    Discord id, user, external id or phone replaces the customer's primary identifier of that
    kind (its other identifiers of the kind stay)."""
    customer_lock(customer)
    _check_fields(fields, CUSTOMER_FIELDS)
    before = customer_data(customer)
    if "phone" in fields:
        fields["phone"] = phone_normalize(fields["phone"], tenant=customer.tenant)
    if "email" in fields:
        fields["email"] = (fields["email"] or "").strip()
    identifiers_before = identity.column_values(customer)
    changed = {
        kind: value
        for kind, value in identity.values_of_fields(fields).items()
        if value != identifiers_before[kind]
    }
    identity.identifiers_check(
        tenant_id=customer.tenant_id, values=changed, customer_id=customer.pk
    )
    for key, value in fields.items():
        setattr(customer, key, value)
    _save(customer, exclude=_CUSTOMER_CLEAN_EXCLUDE, update_fields=[*fields, "updated_at"])
    if changed:
        identity.identifiers_sync(customer=customer, before=identifiers_before)
    customer_changed(customer, before)
    return customer


#: the errors of a create that lost a race to a concurrent identical request (the other
#: request's customer holds the identifier now): find-or-create resolves again
_LOST_RACE = frozenset(
    {
        CustomerErrorCode.EMAIL_TAKEN,
        CustomerErrorCode.DISCORD_ID_TAKEN,
        CustomerErrorCode.USER_TAKEN,
        CustomerErrorCode.IDENTIFIER_TAKEN,
        "conflict",
    }
)
#: attempts of find-or-create before a lost race is answered with its error
RESOLVE_ATTEMPTS = 3


class _Stale(Exception):
    """The customer found was merged away or erased before its lock was taken."""


def _identity_conflict(message: str, fields: dict) -> errors.ValidationError:
    return errors.ValidationError(message, fields=fields, code=CustomerErrorCode.IDENTITY_CONFLICT)


#: how the find-or-create request names each kind (the data dialect's wire names)
_WIRE = {DISCORD: "discordId", USER: "userId", EMAIL: "email"}
_FIELD = {DISCORD: "discord_id", USER: "user", EMAIL: "email"}


def customer_find_or_create_by_discord(*, tenant, discord_id: str, **defaults):
    """Resolution on write (issue 20, docs/identity.md): find the tenant's customer by
    ``discord_id``, then by ``defaults["user"]``, then by ``defaults["email"]`` (when the
    tenant's ``match_by_email`` allows), and attach the request's other identifiers to it;
    or create it. ``(customer, created)``.

    - A Discord id or user the customer found already shows with another value is a conflict
      (a customer shows one of each), never a silent second one; a second email is attached
      as a secondary identifier (the column keeps the first).
    - Identifiers of the request held by two different customers: a conflict naming both.
    - Concurrent identical requests: the unique constraints decide, the loser resolves again
      and finds the winner's customer (an inactive customer is returned as it is).

    The lookup is one query outside any transaction: a customer that already holds every
    identifier of the request is returned without one (the common case of a bot that calls
    this for every message). A write is one transaction (the customer found under its
    lock); a write that lost a race is resolved again, from a fresh lookup.
    """
    _check_fields(defaults, CUSTOMER_FIELDS)
    wanted = {
        DISCORD: identity.normalize(DISCORD, discord_id, tenant=tenant),
        USER: identity.normalize(USER, defaults.get("user"), tenant=tenant),
        EMAIL: identity.normalize(EMAIL, defaults.get("email"), tenant=tenant),
    }
    wanted = {kind: value for kind, value in wanted.items() if value}
    for attempt in range(1, RESOLVE_ATTEMPTS + 1):
        found = identity.customers_by_identifiers(tenant_id=tenant.pk, pairs=wanted.items())
        held = {
            kind: found[(kind, value)] for kind, value in wanted.items() if (kind, value) in found
        }
        _refuse_two_customers(held)
        match = held.get(DISCORD) or held.get(USER)
        if match is None and tenant.match_by_email:
            match = held.get(EMAIL)
        if match is not None and len(held) == len(wanted):
            return match, False  # every identifier of the request is already the customer's
        try:
            return _resolve_write(
                tenant=tenant, match=match, wanted=wanted, held=held, defaults=defaults
            )
        except _Stale:
            if attempt == RESOLVE_ATTEMPTS:
                raise errors.Conflict(
                    "The record was changed by another request at the same time; retry."
                ) from None
        except errors.DomainError as exc:
            if attempt == RESOLVE_ATTEMPTS or exc.code not in _LOST_RACE:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@_atomic
def _resolve_write(*, tenant, match, wanted: dict, held: dict, defaults: dict):
    """The write of find-or-create: one transaction (a lost race rolls all of it back)."""
    if match is None:
        if EMAIL in held:  # held, and email matching is off: refused, naming the holder
            exc = identity.taken_error(EMAIL, _owner(held[EMAIL]))
            exc.message = f"{exc.message} It belongs to customer {held[EMAIL].uuid}."
            raise exc
        fields = _customer_fields_clean({**defaults, "discord_id": wanted[DISCORD]}, tenant=tenant)
        return _customer_insert(tenant=tenant, fields=fields), True
    return _attach(match, wanted=wanted, held=held, defaults=defaults), False


def _owner(customer: Customer) -> identity.Owner:
    return identity.Owner(customer.pk, customer.uuid)


def _refuse_two_customers(held: dict) -> None:
    """Identifiers of one request that two customers hold are never merged silently."""
    first_kind, first = next(iter(held.items()), (None, None))
    for kind, customer in held.items():
        if customer.pk != first.pk:
            raise _identity_conflict(
                f"The {_WIRE[first_kind]} belongs to customer {first.uuid} and the "
                f"{_WIRE[kind]} to customer {customer.uuid}: they are two customers, "
                "which are not merged automatically.",
                {
                    _FIELD[first_kind]: [f"Belongs to customer {first.uuid}."],
                    _FIELD[kind]: [f"Belongs to customer {customer.uuid}."],
                },
            )


def _attach(match: Customer, *, wanted: dict, held: dict, defaults: dict) -> Customer:
    """Attach the request's identifiers the customer found does not hold yet (under its
    lock): an empty column of the kind is filled; a Discord id or user the customer already
    shows with another value is a conflict; another email becomes a secondary identifier."""
    customer = customer_lock(match)
    if customer.merged_into_id is not None or customer.erased_at is not None:
        raise _Stale
    found_by = next(kind for kind in (DISCORD, USER, EMAIL) if held.get(kind) is not None)
    fields: dict = {}
    secondary = []
    for kind in (DISCORD, USER):
        value = wanted.get(kind)
        if not value or kind in held:
            continue
        if identity.column_values(customer)[kind]:
            shown = "Discord id" if kind == DISCORD else "user"
            raise _identity_conflict(
                f"The customer found by {_WIRE[found_by]} ({customer.uuid}) already has "
                f"another {shown}: a customer shows one {shown}.",
                {_FIELD[kind]: [f"Customer {customer.uuid} already has another {shown}."]},
            )
        if kind == DISCORD:
            fields["discord_id"] = value
            for name in ("discord_username", "discord_display_name"):
                if defaults.get(name) and not getattr(customer, name):
                    fields[name] = defaults[name]
        else:
            fields["user"] = defaults["user"]
    if wanted.get(EMAIL) and EMAIL not in held:
        if customer.email:
            secondary.append((EMAIL, wanted[EMAIL]))
        else:
            fields["email"] = defaults["email"]
    if defaults.get("phone") and not customer.phone:
        fields["phone"] = defaults["phone"]
    if fields:
        customer_update(customer=customer, **fields)
    if secondary:
        identity.identifiers_add(customer=customer, pairs=secondary)
        if not fields:
            _touch(customer)
    return customer


@_atomic
def customer_deactivate(*, customer: Customer) -> Customer:
    customer_lock(customer)
    if customer.is_active:
        before = customer_data(customer)
        customer.is_active = False
        customer.save(update_fields=["is_active", "updated_at"])
        customer_changed(customer, before)
    return customer


@_atomic
def customer_reactivate(*, customer: Customer) -> Customer:
    customer_lock(customer)
    if not customer.is_active:
        before = customer_data(customer)
        customer.is_active = True
        customer.save(update_fields=["is_active", "updated_at"])
        customer_changed(customer, before)
    return customer


def user_is_member(*, user, tenant_id) -> bool:
    return Membership.objects.filter(user=user, tenant_id=tenant_id, is_active=True).exists()


@_atomic
def customer_link_user(*, customer: Customer, user) -> Customer:
    """Link a customer to a platform user who is an active member of the customer's tenant."""
    if (
        user is None
        or not user.is_active
        or not user_is_member(user=user, tenant_id=customer.tenant_id)
    ):
        raise errors.ValidationError(
            "The user does not exist or is not a member of this tenant.",
            fields={"userId": ["The user does not exist or is not a member of this tenant."]},
            code=CustomerErrorCode.INVALID_USER,
        )
    return customer_update(customer=customer, user=user)


@_atomic
def customer_create_for_user(*, tenant, user) -> Customer:
    """The customer that represents a user of the tenant (the seed's createCustomerFromUser)."""
    from customers.selectors import customer_get_by_user

    existing = customer_get_by_user(tenant=tenant, user=user)
    if existing is not None:
        return existing
    email = (user.email or "").strip()
    held = identity.owners(
        tenant_id=tenant.pk, pairs=[(EMAIL, identity.normalize(EMAIL, email, tenant=tenant))]
    )
    if held:  # the email is another customer's: this one is made without it
        email = ""
    full_name = " ".join(p for p in (user.first_name, user.last_name) if p)
    try:
        return customer_create(
            tenant=tenant,
            user=user,
            source=Source.USER,
            first_name=user.first_name,
            last_name=user.last_name,
            name=full_name or user.get_username(),
            email=email,
        )
    except errors.ValidationError as exc:
        if exc.code != "user_taken":
            raise
        return customer_get_by_user(tenant=tenant, user=user)


@_atomic
def member_join(*, tenant, user, role: str = Role.AGENT) -> Membership:
    """A user joins a tenant: the membership, and the customer that represents the user."""
    membership = membership_grant(user=user, tenant=tenant, role=role)
    customer_create_for_user(tenant=tenant, user=user)
    return membership


def _touch(customer: Customer) -> None:
    customer.updated_at = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(updated_at=customer.updated_at)


@_atomic
def address_add(*, customer: Customer, key: str, **fields) -> Address:
    customer_lock(customer)  # the addresses of a customer change under its lock
    _check_fields(fields, ADDRESS_FIELDS)
    if "phone" in fields:
        fields["phone"] = phone_normalize(fields["phone"], tenant=customer.tenant)
    if Address.objects.filter(customer=customer, key=key).exists():
        raise errors.ValidationError(
            "An address with this addressId already exists for this customer.",
            fields={"addressId": ["An address with this addressId already exists."]},
            code=CustomerErrorCode.ADDRESS_EXISTS,
        )
    address = Address(customer=customer, key=key, **fields)
    _save(address, exclude=("customer",))
    _touch(customer)
    events.emit_about(customer, EventType.ADDRESS_CREATED, address_data(address, customer))
    return address


@_atomic
def address_set(*, customer: Customer, key: str, **fields) -> Address:
    """Create or change the customer's address ``key`` (only the given fields change)."""
    customer_lock(customer)
    _check_fields(fields, ADDRESS_FIELDS)
    if "phone" in fields:
        fields["phone"] = phone_normalize(fields["phone"], tenant=customer.tenant)
    address = Address.objects.filter(customer=customer, key=key).first() or Address(
        customer=customer, key=key
    )
    adding = address._state.adding
    update_fields = None if adding else [*fields, "updated_at"]
    before = None if adding else address_data(address, customer)
    for name, value in fields.items():
        setattr(address, name, value)
    _save(address, exclude=("customer",), update_fields=update_fields)
    _touch(customer)
    after = address_data(address, customer)
    if adding:
        events.emit_about(customer, EventType.ADDRESS_CREATED, after)
    elif previous := events.changed(before, after):
        events.emit_about(customer, EventType.ADDRESS_UPDATED, after, previous)
    return address


@_atomic
def address_remove(*, customer: Customer, key: str) -> None:
    """Remove an address; removing the default address clears the default."""
    customer_lock(customer)
    address = Address.objects.filter(customer=customer, key=key).first()
    if address is None:
        message = "The address is not one of this customer's addresses."
        raise errors.ValidationError(
            message, fields={"addressId": [message]}, code=CustomerErrorCode.ADDRESS_NOT_FOUND
        )
    data = address_data(address, customer)
    if customer.default_address_id == address.pk:
        before = customer_data(customer)
        customer.default_address = None
        customer.save(update_fields=["default_address", "updated_at"])
        customer_changed(customer, before)
    address.delete()
    _touch(customer)
    events.emit_about(customer, EventType.ADDRESS_DELETED, data)


@_atomic
def default_address_set(*, customer: Customer, key: str | None) -> Customer:
    """Make one of the customer's own addresses the default (``None`` clears it)."""
    customer_lock(customer)
    before = customer_data(customer)
    if key is None:
        customer.default_address = None
    else:
        address = Address.objects.filter(customer=customer, key=key).first()
        if address is None:
            raise errors.ValidationError(
                "The address is not one of this customer's addresses.",
                fields={"addressId": ["The address is not one of this customer's addresses."]},
                code=CustomerErrorCode.ADDRESS_NOT_FOUND,
            )
        customer.default_address = address
    customer.save(update_fields=["default_address", "updated_at"])
    customer_changed(customer, before)
    return customer


@_atomic
def client_type_create(*, tenant, name: str) -> ClientType:
    client_type, _ = ClientType.objects.get_or_create(tenant=tenant, name=name)
    return client_type


@_atomic
def customer_tags_set(*, customer: Customer, names: list[str]) -> list[str]:
    """Overwrite the customer's client-type tags; an unknown name changes nothing."""
    customer_lock(customer)  # two lists set at once: one wins whole, never a mix
    wanted = list(dict.fromkeys(names))
    found = {
        ct.name: ct
        for ct in ClientType.objects.filter(tenant_id=customer.tenant_id, name__in=wanted)
    }
    unknown = [name for name in wanted if name not in found]
    if unknown:
        message = f"Unknown client type: {', '.join(unknown)}."
        raise errors.ValidationError(
            message, fields={"clienttypes": [message]}, code=CustomerErrorCode.UNKNOWN_CLIENT_TYPE
        )
    # the link rows written by hand (as ``tags.set`` would, in as many statements): the names
    # the customer had are read with them, for the event's previous_attributes
    through = Customer.tags.through
    current = dict(
        through.objects.filter(customer_id=customer.pk).values_list(
            "clienttype_id", "clienttype__name"
        )
    )
    wanted_ids = {found[name].pk for name in wanted}
    removed = set(current) - wanted_ids
    if removed:
        through.objects.filter(customer_id=customer.pk, clienttype_id__in=removed).delete()
    added = [pk for pk in wanted_ids if pk not in current]
    if added:
        through.objects.bulk_create(
            [through(customer_id=customer.pk, clienttype_id=pk) for pk in added]
        )
    _touch(customer)
    if removed or added:
        events.emit_about(
            customer,
            EventType.CUSTOMER_TAGS_UPDATED,
            events.payload("customer_tags", customer, tags=wanted),
            {"tags": sorted(current.values())},
        )
    return sorted(wanted)


@dataclass
class ImportReport:
    """What ``customers_import`` did: counts, and every invalid row as ``(line, message)``."""

    dry_run: bool
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def committed(self) -> bool:
        return not self.dry_run and not self.errors


def _import_error_text(exc: errors.DomainError) -> str:
    if exc.fields and not exc.message.startswith(tuple(exc.fields)):
        return "; ".join(f"{name}: {msgs[0]}" for name, msgs in exc.fields.items())
    return exc.message


def _import_row(*, tenant, raw: dict) -> bool:
    from customers.csv_io import coerce_row

    uuid_text, fields, tags = coerce_row(raw)
    customer = None
    if uuid_text:
        uid = parse_uuid(uuid_text)
        customer = Customer.objects.filter(tenant=tenant, uuid=uid).first() if uid else None
        if customer is None:
            raise errors.ValidationError(
                "id: no customer with this id in this tenant (leave id empty to create one)."
            )
    elif fields.get("email"):
        from customers.selectors import customer_find_by_email

        customer = customer_find_by_email(tenant=tenant, email=fields["email"])
    created = customer is None
    if created:
        fields.setdefault("source", Source.MANUAL)
        customer = customer_create(tenant=tenant, **fields)
    elif fields:
        customer_update(customer=customer, **fields)
    if tags is not None and (tags or not created):
        customer_tags_set(customer=customer, names=tags)
    return created


#: the change reason of every change an import makes (their history says so)
IMPORT_REASON = "CSV import"


def customers_import(*, tenant, rows, dry_run: bool, progress=None) -> ImportReport:
    """Create or update the tenant's customers from CSV rows ``[(line, {column: text})]``.

    All or nothing: every row is tried (each in a savepoint, through customer_create /
    customer_update / customer_tags_set, so every rule and constraint holds, also between rows
    of the file), every invalid row is reported with its line number, and the whole import is
    rolled back when it is a dry run or when any row is invalid. ``progress(n)`` is called
    after each row.
    """
    report = ImportReport(dry_run=dry_run)
    # one batch of events for the file (tenants.events.collect): written with one INSERT per
    # INSERT_BATCH rows, never one per row; a row that fails takes its events with it
    with transaction.atomic(), history_context(reason=IMPORT_REASON), events.collect() as batch:
        start = batch.mark()
        for index, (line, raw) in enumerate(rows, start=1):
            try:
                with transaction.atomic(), events.collect():
                    if _import_row(tenant=tenant, raw=raw):
                        report.created += 1
                    else:
                        report.updated += 1
            except errors.DomainError as exc:
                report.errors.append((line, _import_error_text(exc)))
            if progress is not None:
                progress(index)
            if not report.errors:  # bounded memory for a large file
                batch.flush(min_size=events.INSERT_BATCH)
        if not report.committed:
            batch.discard_from(start)
            transaction.set_rollback(True)
    return report


@_atomic
def customer_default_address_update(
    *, customer: Customer, key: str = "default", **fields
) -> Address | None:
    """Change the given fields of the customer's default address. A customer without one
    gets address ``key`` (created, or changed when it exists) made its default; nothing is
    created when every given value is empty."""
    _check_fields(fields, ADDRESS_FIELDS)
    customer_lock(customer)
    if customer.default_address_id is not None:
        current = (
            Address.objects.filter(pk=customer.default_address_id, customer=customer)
            .values_list("key", flat=True)
            .first()
        )
        if current is not None:
            return address_set(customer=customer, key=current, **fields)
    if not any(fields.values()):
        return None
    address = address_set(customer=customer, key=key, **fields)
    default_address_set(customer=customer, key=key)
    return address


@_atomic
def customer_create_with_default_address(
    *, tenant, address: dict | None = None, **fields
) -> Customer:
    """``customer_create`` and, in the same transaction, its default address (peppered)."""
    customer = customer_create(tenant=tenant, **fields)
    if address:
        customer_default_address_update(customer=customer, **address)
    return customer


@_atomic
def customer_update_with_default_address(
    *, customer: Customer, address: dict | None = None, changes=None, **fields
) -> Customer:
    """``customer_update`` (only the given fields) and its default address, in one transaction.

    ``changes(customer)``, when given, returns more ``(fields, address)`` decided from the
    record as it is under the lock (the peppered name that follows the names)."""
    if changes is not None:
        more_fields, more_address = changes(customer_lock(customer))
        fields, address = {**fields, **more_fields}, {**(address or {}), **more_address}
    if fields:
        customer_update(customer=customer, **fields)
    if address:
        customer_default_address_update(customer=customer, **address)
    return customer


# --- back-office writes (customers/admin.py) -----------------------------------------------------


@service_atomic()
def client_type_update(*, client_type: ClientType, name: str) -> ClientType:
    """Rename a client type (the tenant's names stay unique: clienttype_unique_name)."""
    locked = ClientType.objects.select_for_update().get(pk=client_type.pk)
    if locked.name != name:
        locked.name = name
        try:
            locked.full_clean(exclude=["tenant"], validate_unique=False, validate_constraints=False)
        except DjangoValidationError as exc:
            raise _validation_error(exc) from exc
        try:
            with transaction.atomic():
                locked.save(update_fields=["name", "updated_at"])
        except IntegrityError as exc:
            raise errors.ValidationError(
                "This tenant already has a client type with this name.",
                fields={"name": ["This tenant already has a client type with this name."]},
                code=CustomerErrorCode.CLIENT_TYPE_EXISTS,
            ) from exc
    return locked


@service_atomic()
def client_type_delete(*, client_type: ClientType) -> None:
    """Remove a client type; its customers lose the tag (and their updatedAt moves), each
    with a ``customer.tags_updated`` event (one INSERT for all)."""
    through = Customer.tags.through
    # the tags of the type's customers, in the one query that found the customers
    rows = through.objects.filter(
        customer_id__in=through.objects.filter(clienttype_id=client_type.pk).values("customer_id")
    ).values_list("customer_id", "customer__uuid", "clienttype__name")
    tags: dict[tuple, list[str]] = {}
    for pk, uuid, name in rows:
        tags.setdefault((pk, uuid), []).append(name)
    tenant_id = client_type.tenant_id
    client_type.delete()
    if tags:
        Customer.objects.filter(pk__in=[pk for pk, _ in tags]).update(updated_at=timezone.now())
        events.emit_many(
            events.event(
                tenant=tenant_id,
                type=EventType.CUSTOMER_TAGS_UPDATED,
                customer_uuid=uuid,
                data=events.payload(
                    "customer_tags",
                    SimpleNamespace(uuid=uuid),
                    tags=[n for n in names if n != client_type.name],
                ),
                previous_attributes={"tags": sorted(names)},
            )
            for (_, uuid), names in tags.items()
        )


@service_atomic()
def customer_delete(*, customer: Customer) -> None:
    """Delete a customer with its addresses, links, account and contacts (a customer with
    orders, or one that represents a store, is protected by the database). One
    ``customer.deleted`` event: what belonged to the customer went with it."""
    data = customer_data(customer)
    customer.delete()
    events.emit_about(customer, EventType.CUSTOMER_DELETED, data)


@service_atomic()
def address_rename(*, customer: Customer, key: str, new_key: str) -> Address:
    """Give the customer's address ``key`` the client key ``new_key`` (its addressId)."""
    address = Address.objects.select_for_update().filter(customer=customer, key=key).first()
    if address is None:
        raise errors.NotFound("Address not found.", code=CustomerErrorCode.ADDRESS_NOT_FOUND)
    if new_key != key:
        if Address.objects.filter(customer=customer, key=new_key).exists():
            raise errors.ValidationError(
                "An address with this addressId already exists for this customer.",
                fields={"key": ["An address with this addressId already exists."]},
                code=CustomerErrorCode.ADDRESS_EXISTS,
            )
        before = address_data(address, customer)
        address.key = new_key
        try:
            address.full_clean(
                exclude=["customer"], validate_unique=False, validate_constraints=False
            )
        except DjangoValidationError as exc:
            raise _validation_error(exc) from exc
        address.save(update_fields=["key", "updated_at"])
        _touch(customer)
        after = address_data(address, customer)
        events.emit_about(customer, EventType.ADDRESS_UPDATED, after, events.changed(before, after))
    return address
