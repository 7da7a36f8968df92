"""Merging two customers of a tenant into one, and undoing it (issue 20; docs/merge.md).

``merge_preview`` says, without changing anything, which value of every field survives and
why, what moves and what blocks the merge. ``customer_merge`` does it in one transaction,
both customers locked in primary-key order (two merges that share a customer never
deadlock): the merged record becomes a tombstone (``merged_into``), never deleted, and a
``Merge`` row records everything moved and every value overwritten. ``merge_undo`` puts both
records back, keeping on the survivor what was created or changed there since, and reports
(in its answer and on the ``Merge`` row) what it could not restore cleanly.

What belongs to a customer in apps above ``customers`` (store links, the B2B account,
contacts, orders, credit checks) is moved by participants that those apps register here in
their ``AppConfig.ready()`` (stores/merging.py, b2b/merging.py): ``customers`` does not
import them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from customers.duplicates import duplicate_pairs_mark_merged, duplicate_pairs_unmerged
from customers.error_codes import CustomerErrorCode
from customers.models import Address, Customer, Identifier, Merge
from customers.services import (
    _CUSTOMER_CLEAN_EXCLUDE,
    _atomic,
    _save,
    customer_changed,
    customer_data,
    customer_lock,
)
from tenants import errors, events
from tenants.events import EventType
from tenants.history import history_context, history_user
from tenants.ids import parse_uuid

# --- the participants (other apps' records of a customer) ----------------------------------------


class Participant(Protocol):
    """What an app registers to take part in merges (its records of a customer)."""

    #: the key of its part of the preview and of ``Merge.record["participants"]``
    name: str

    def preview(self, *, survivor: Customer, merged: Customer) -> dict:
        """What would move (JSON-ready), without changing anything."""

    def blockers(self, *, survivor: Customer, merged: Customer) -> list[str]:
        """Why the two cannot be merged (empty: they can)."""

    def move(self, *, survivor: Customer, merged: Customer) -> dict:
        """Move the merged customer's records to the survivor (both locked); returns what
        ``restore`` needs (JSON-ready)."""

    def restore(self, *, survivor: Customer, merged: Customer, record: dict) -> list[str]:
        """Move back what ``move`` recorded, keeping what the survivor gained since; returns
        what could not be restored, as sentences."""


_participants: dict[str, Participant] = {}


def register(participant: Participant) -> None:
    """Add (or replace, by its name) a participant; called from ``AppConfig.ready``."""
    _participants[participant.name] = participant


def participants() -> list[Participant]:
    return list(_participants.values())


# --- the fields ----------------------------------------------------------------------------------

#: the customer's fields whose surviving value is chosen (by default, or per field); the
#: notes are both kept, the credit summed
MERGE_FIELDS = (
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
    "external_id",
    "source",
    "user",
    "is_active",
    "default_address",
)
SURVIVOR, MERGED = "survivor", "merged"
NOTES_SEPARATOR = "\n\n"


def _attname(field: str) -> str:
    return Customer._meta.get_field(field).attname


def field_value(customer: Customer, field: str):
    """The field's value as JSON carries it (a user or address by its id)."""
    value = getattr(customer, _attname(field))
    return str(value) if field == "default_address" and value is not None else value


def _empty(value) -> bool:
    return value is None or value == ""


def _choices(fields) -> dict[str, str]:
    fields = fields or {}
    if not isinstance(fields, dict):
        raise errors.ValidationError(
            "fields: must map field names to survivor or merged.",
            fields={"fields": ["Must map field names to survivor or merged."]},
        )
    bad = {
        name: [f"Unknown field; one of: {', '.join(MERGE_FIELDS)}."]
        for name in fields
        if name not in MERGE_FIELDS
    }
    bad |= {
        name: ["Must be survivor or merged."]
        for name, side in fields.items()
        if name in MERGE_FIELDS and side not in (SURVIVOR, MERGED)
    }
    if bad:
        first, messages = next(iter(bad.items()))
        raise errors.ValidationError(f"fields.{first}: {messages[0]}", fields=bad)
    return dict(fields)


def _field_plan(survivor: Customer, merged: Customer, choices: dict) -> list[dict]:
    plan = []
    for field in MERGE_FIELDS:
        ours, theirs = field_value(survivor, field), field_value(merged, field)
        if field in choices:
            side, reason = choices[field], "chosen"
        elif _empty(ours) and not _empty(theirs):
            side, reason = MERGED, "only the merged record has a value"
        else:
            side, reason = SURVIVOR, "the survivor's (default)"
        plan.append(
            {
                "field": field,
                "survivor": ours,
                "merged": theirs,
                "value": theirs if side == MERGED else ours,
                "from": side,
                "reason": reason,
            }
        )
    return plan


def _merged_notes(survivor: Customer, merged: Customer) -> str:
    if not merged.notes or merged.notes == survivor.notes:
        return survivor.notes
    if not survivor.notes:
        return merged.notes
    return survivor.notes + NOTES_SEPARATOR + merged.notes


# --- checks --------------------------------------------------------------------------------------


def _check_pair(survivor: Customer, merged: Customer) -> None:
    """What makes a pair impossible to merge whatever its records: another tenant's (404, as
    everywhere), itself, a tombstone."""
    if survivor.tenant_id != merged.tenant_id:
        raise errors.NotFound("Customer not found.", code=CustomerErrorCode.CUSTOMER_NOT_FOUND)
    for customer in (survivor, merged):
        if customer.erased_at is not None:
            raise errors.NotFound("Customer not found.", code=CustomerErrorCode.CUSTOMER_NOT_FOUND)
    if survivor.pk == merged.pk:
        message = "A customer cannot be merged with itself."
        raise errors.ValidationError(
            message, fields={"merged_id": [message]}, code=CustomerErrorCode.MERGE_BLOCKED
        )
    for role, customer in (("survivor", survivor), ("merged", merged)):
        if customer.merged_into_id is not None:
            raise errors.Conflict(
                f"The {role} customer {customer.uuid} was already merged into another "
                "customer: merge that one instead.",
                code=CustomerErrorCode.CUSTOMER_MERGED,
            )


def _own_blockers(survivor: Customer, merged: Customer) -> list[str]:
    return []


def _blockers(survivor: Customer, merged: Customer) -> list[str]:
    found = _own_blockers(survivor, merged)
    for participant in participants():
        found += participant.blockers(survivor=survivor, merged=merged)
    return found


# --- the preview ---------------------------------------------------------------------------------


def _address_renames(survivor: Customer, merged: Customer) -> list[dict]:
    taken = set(Address.objects.filter(customer=survivor).values_list("key", flat=True))
    moves = []
    for address_id, key in (
        Address.objects.filter(customer=merged)
        .order_by("created_at", "id")
        .values_list("id", "key")
    ):
        new_key = _free_key(key, taken)
        taken.add(new_key)
        moves.append({"id": str(address_id), "key": key, "new_key": new_key})
    return moves


def _free_key(key: str, taken: set) -> str:
    if key not in taken:
        return key
    n = 1
    while True:
        suffix = "-merged" if n == 1 else f"-merged-{n}"
        candidate = key[: 64 - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


def _tags_added(survivor: Customer, merged: Customer) -> list[int]:
    through = Customer.tags.through
    have = set(
        through.objects.filter(customer_id=survivor.pk).values_list("clienttype_id", flat=True)
    )
    return sorted(
        pk
        for pk in through.objects.filter(customer_id=merged.pk).values_list(
            "clienttype_id", flat=True
        )
        if pk not in have
    )


def merge_preview(*, survivor: Customer, merged: Customer, fields=None) -> dict:
    """Which value of every field survives and why, what moves, and what blocks the merge
    (JSON-ready); changes nothing."""
    _check_pair(survivor, merged)
    choices = _choices(fields)
    plan = _field_plan(survivor, merged, choices)
    credit = survivor.credit + merged.credit
    through = Customer.tags.through
    moves = {
        "identifiers": Identifier.objects.filter(customer=merged).count(),
        "addresses": _address_renames(survivor, merged),
        "tags_added": sorted(
            through.objects.filter(
                customer_id=merged.pk, clienttype_id__in=_tags_added(survivor, merged)
            ).values_list("clienttype__name", flat=True)
        ),
        "notes": _merged_notes(survivor, merged),
        "credit": {
            "survivor": str(survivor.credit),
            "merged": str(merged.credit),
            "total": str(credit),
        },
    }
    for participant in participants():
        moves[participant.name] = participant.preview(survivor=survivor, merged=merged)
    blockers = _blockers(survivor, merged)
    return {
        "survivor_id": str(survivor.uuid),
        "merged_id": str(merged.uuid),
        "fields": plan,
        "moves": moves,
        "blockers": blockers,
        "can_merge": not blockers,
    }


# --- the merge -----------------------------------------------------------------------------------


def _lock_pair(a: Customer, b: Customer, *, tombstones: bool = False) -> None:
    """Lock both customers, lowest primary key first: two services that lock the same two
    (or overlapping pairs) always take them in the same order, so they never deadlock."""
    for customer in sorted((a, b), key=lambda c: c.pk):
        customer_lock(customer, tombstone=tombstones)


def _translate_merge_integrity(exc: IntegrityError) -> errors.DomainError:
    return errors.Conflict(
        "The customer is being merged by another request; try again.",
        code=CustomerErrorCode.CUSTOMER_MERGED,
    )


@_atomic
def customer_merge(*, survivor: Customer, merged: Customer, fields=None) -> Merge:
    """Merge ``merged`` into ``survivor`` (see the module's docstring); returns the Merge.
    Who merged is the current actor (the request's user or API key: tenants.events)."""
    _check_pair(survivor, merged)
    choices = _choices(fields)
    _lock_pair(survivor, merged, tombstones=True)
    _check_pair(survivor, merged)  # again, as committed: another merge may have won
    blockers = _blockers(survivor, merged)
    if blockers:
        raise errors.Conflict(
            "The customers cannot be merged: " + " ".join(blockers),
            fields={"merge": blockers},
            code=CustomerErrorCode.MERGE_BLOCKED,
        )
    now = timezone.now()
    merge = Merge(
        tenant_id=survivor.tenant_id,
        survivor=survivor,
        merged=merged,
        actor=events.current_actor(),
        merged_at=now,
        fields=choices,
    )
    reason = f"Merged customer {merged.uuid} into {survivor.uuid}"
    with history_context(reason=reason):
        plan = _field_plan(survivor, merged, choices)
        addresses = _address_renames(survivor, merged)
        tags_added = _tags_added(survivor, merged)
        notes = _merged_notes(survivor, merged)
        merged_credit = merged.credit
        before = customer_data(survivor)

        # the merged record becomes a tombstone first: its unique columns (email, Discord id,
        # user) are then free for the survivor to take
        merged.merged_into, merged.merged_at, merged.credit = survivor, now, Decimal("0")
        merged.save(update_fields=["merged_into", "merged_at", "credit", "updated_at"])
        try:
            with transaction.atomic():
                merge.save(force_insert=True)
        except IntegrityError as exc:
            raise _translate_merge_integrity(exc) from exc

        for move in addresses:
            address = Address.objects.get(pk=move["id"])
            address.customer, address.key = survivor, move["new_key"]
            address.save(update_fields=["customer", "key", "updated_at"])
        identifiers = [
            str(pk)
            for pk in Identifier.objects.filter(customer=merged).values_list("pk", flat=True)
        ]
        Identifier.objects.filter(customer=merged).update(customer=survivor)
        through = Customer.tags.through
        through.objects.bulk_create(
            [through(customer_id=survivor.pk, clienttype_id=pk) for pk in tags_added]
        )

        overwritten = {}
        for row in plan:
            if row["from"] == MERGED and row["value"] != row["survivor"]:
                overwritten[row["field"]] = {"before": row["survivor"], "after": row["value"]}
                setattr(survivor, _attname(row["field"]), row["value"])
        if notes != survivor.notes:
            overwritten["notes"] = {"before": survivor.notes, "after": notes}
            survivor.notes = notes
        changed = [_attname(field) for field in overwritten]
        if merged_credit:
            survivor.credit += merged_credit
            changed.append("credit")
        _save(survivor, exclude=_CUSTOMER_CLEAN_EXCLUDE, update_fields=[*changed, "updated_at"])

        moved = {
            participant.name: participant.move(survivor=survivor, merged=merged)
            for participant in participants()
        }
        merge.record = {
            "addresses": addresses,
            "identifiers": identifiers,
            "tags_added": tags_added,
            "overwritten": overwritten,
            "credit": str(merged_credit),
            "participants": moved,
        }
        merge.save(update_fields=["record", "updated_at"])
        # the review queue's pair of the two is decided (customers/duplicates.py)
        duplicate_pairs_mark_merged(survivor=survivor, merged=merged, by=history_user())
    events.emit_about(survivor, EventType.CUSTOMER_MERGED, events.payload("merge", merge))
    customer_changed(survivor, before)
    return merge


# --- the undo ------------------------------------------------------------------------------------


def _holder(customer: Customer, column: str, value, *, besides=()) -> str | None:
    """The id of another live customer of the tenant whose unique ``column`` is ``value``."""
    found = (
        Customer.objects.filter(
            _UNIQUE[column](value), tenant_id=customer.tenant_id, merged_into__isnull=True
        )
        .exclude(pk__in=[customer.pk, *besides])
        .values_list("uuid", flat=True)
        .first()
    )
    return None if found is None else str(found)


def _restore_survivor_fields(survivor: Customer, merged: Customer, record: dict) -> list[str]:
    """Put back every value the merge overwrote on the survivor that is still the merged
    one; a value changed since stays (it is the survivor's now). A unique value of the
    survivor's that another customer took meanwhile is not put back (and reported)."""
    problems, changed = [], []
    for field, values in record.get("overwritten", {}).items():
        name = _attname(field)
        current = field_value(survivor, field)
        if current != values["after"]:
            continue
        before = values["before"]
        if name in _UNIQUE and not _empty(before):
            holder = _holder(survivor, name, before, besides=[merged.pk])
            if holder is not None:
                problems.append(
                    f"The survivor's former {name} {before!r} now belongs to customer "
                    f"{holder}: the survivor keeps {current!r}."
                )
                continue
        setattr(survivor, name, before)
        changed.append(name)
    credit = Decimal(record.get("credit") or "0")
    if credit:
        survivor.credit -= credit
        changed.append("credit")
    if changed:
        survivor.save(update_fields=[*changed, "updated_at"])
    return problems


#: the merged record's unique columns, and how a live customer holding the same value is found
_UNIQUE = {
    "email": lambda value: Q(email__iexact=value),
    "discord_id": lambda value: Q(discord_id=value),
    "user_id": lambda value: Q(user_id=value),
}


def _restore_merged(merged: Customer, record: dict) -> list[str]:
    """The tombstone becomes a live customer again, with its own columns; a unique value that
    a live customer took since is left off (and reported)."""
    problems = []
    changed = ["merged_into", "merged_at", "credit"]
    for column in _UNIQUE:
        value = getattr(merged, column)
        if _empty(value):
            continue
        holder = _holder(merged, column, value)
        if holder is not None:
            problems.append(
                f"The merged record's {column} {value!r} now belongs to customer {holder}: "
                "the restored record was left without it."
            )
            setattr(merged, column, None if column == "user_id" else "")
            changed.append(column)
    merged.merged_into, merged.merged_at = None, None
    merged.credit = Decimal(record.get("credit") or "0")
    merged.save(update_fields=[*changed, "updated_at"])
    return problems


def _restore_addresses(survivor: Customer, merged: Customer, record: dict) -> list[str]:
    problems = []
    for move in record.get("addresses", []):
        address = Address.objects.filter(pk=move["id"], customer=survivor).first()
        if address is None:
            problems.append(
                f"Address {move['key']!r} of the merged record was removed from the survivor "
                "after the merge: not restored."
            )
            continue
        address.customer, address.key = merged, move["key"]
        address.save(update_fields=["customer", "key", "updated_at"])
    return problems


def _restore_identifiers(survivor: Customer, merged: Customer, record: dict) -> list[str]:
    problems = []
    ids = record.get("identifiers", [])
    back = Identifier.objects.filter(pk__in=ids, customer=survivor)
    gone = set(ids) - {str(pk) for pk in back.values_list("pk", flat=True)}
    back.update(customer=merged)
    for pk in sorted(gone):
        problems.append(
            f"Identifier {pk} of the merged record is no longer the survivor's: not restored."
        )
    return problems


def _restore_tags(survivor: Customer, record: dict) -> None:
    through = Customer.tags.through
    added = record.get("tags_added", [])
    if added:
        through.objects.filter(customer_id=survivor.pk, clienttype_id__in=added).delete()


@_atomic
def merge_undo(*, merge: Merge) -> Merge:
    """Undo ``merge`` (see the module's docstring): a second undo is a 409, as is the undo of
    a merge whose survivor was itself merged away since (undo that merge first)."""
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise errors.Conflict(
            "This merge was already undone.", code=CustomerErrorCode.MERGE_ALREADY_UNDONE
        )
    survivor, merged = merge.survivor, merge.merged
    if survivor.erased_at is not None or merged.erased_at is not None:
        # the person was forgotten (customers/privacy.py): the record is redacted, and
        # nothing of them may come back
        raise errors.Conflict(
            "The customer was erased: its merges cannot be undone.",
            code=CustomerErrorCode.CUSTOMER_ERASED,
        )
    _lock_pair(survivor, merged, tombstones=True)
    if survivor.merged_into_id is not None:
        raise errors.Conflict(
            "The survivor was merged into another customer since: undo that merge first.",
            code=CustomerErrorCode.MERGE_UNDO_BLOCKED,
        )
    if merged.merged_into_id != survivor.pk or survivor.erased_at or merged.erased_at:
        raise errors.Conflict(
            "The records are no longer as this merge left them.",
            code=CustomerErrorCode.MERGE_UNDO_BLOCKED,
        )
    record = merge.record
    problems: list[str] = []
    reason = f"Undid the merge of customer {merged.uuid} into {survivor.uuid}"
    with history_context(reason=reason):
        before = customer_data(survivor)
        moved = record.get("participants", {})
        for participant in reversed(participants()):
            if participant.name in moved:
                problems += participant.restore(
                    survivor=survivor, merged=merged, record=moved[participant.name]
                )
        _restore_tags(survivor, record)
        problems += _restore_identifiers(survivor, merged, record)
        problems += _restore_addresses(survivor, merged, record)
        # the survivor's values first: a unique value it took from the merged record is then
        # free again for the restored record
        problems += _restore_survivor_fields(survivor, merged, record)
        if (
            survivor.default_address_id is not None
            and not Address.objects.filter(
                pk=survivor.default_address_id, customer=survivor
            ).exists()
        ):
            survivor.default_address = None
            survivor.save(update_fields=["default_address", "updated_at"])
        problems += _restore_merged(merged, record)
        merge.undone_at = timezone.now()
        merge.undone_by = events.current_actor()
        merge.problems = problems
        merge.save(update_fields=["undone_at", "undone_by", "problems", "updated_at"])
    duplicate_pairs_unmerged(survivor=survivor, merged=merged)
    events.emit_about(survivor, EventType.CUSTOMER_UNMERGED, events.payload("merge", merge))
    customer_changed(survivor, before)
    return merge


# --- reads ---------------------------------------------------------------------------------------


def merges_for_tenant(*, tenant):
    """The tenant's merges (undone ones too), with both customers."""
    return Merge.objects.filter(tenant=tenant).select_related("survivor", "merged")


def merge_get(*, tenant, merge_id) -> Merge:
    """One merge of the tenant; a malformed id, a missing one and another tenant's: 404."""
    uid = parse_uuid(merge_id)
    merge = merges_for_tenant(tenant=tenant).filter(pk=uid).first() if uid else None
    if merge is None:
        raise errors.NotFound("Merge not found.", code=CustomerErrorCode.MERGE_NOT_FOUND)
    return merge


# --- privacy (customers/privacy.py): merges in a person's export and erasure ---------------------

#: what stays of an erased person's merge: who merged, when, and which ids (no values)
REDACTED_RECORD = {"redacted": True}


class MergesPrivacy:
    """A person's merges: exported whole; on erasure the record of moved and overwritten
    values (names, emails, addresses...) is replaced, and an undo is refused from then on."""

    key = "merges"

    @staticmethod
    def _of(customer: Customer):
        return Merge.objects.filter(Q(survivor=customer) | Q(merged=customer))

    def export(self, customer: Customer) -> dict:
        from customers.privacy import row

        return {"merges": [row(merge) for merge in self._of(customer).order_by("merged_at")]}

    def erase(self, customer: Customer) -> dict[str, int]:
        redacted = self._of(customer).update(record=REDACTED_RECORD, problems=[])
        return {"merge_records": redacted}
