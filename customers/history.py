"""One timeline per customer: every recorded change of the customer and of what hangs from it.

The customer and its addresses are sources of their own; the apps above customers plug their
models in with ``timeline_register`` in their ``AppConfig.ready()`` (stores: store links;
b2b: the account, contacts and orders), because customers may not import them (DESIGN §7).

An entry says who (a user, an API key by name, or the system: tenants/history.py), when, what
(the object as a person recognises it: "Address 'billing' (Main St 1, Springfield)") and, for
a change, each field's label with its old and new value as a person reads them (a price
list's name, an address's one-line form, Yes/No, a choice's label). A save that changed no
field is not an entry.

Entries are newest first, by ``(history_date, source key, history_id)``, and paged by a
``Position`` (the last entry's place): the next page is what comes after it. A page costs a
bounded number of queries, whatever the customer's history holds: per source one page query
and one for the previous versions of its changed rows, then one per model whose labels the
page needs (``customer_timeline``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from django.db import models
from django.db.models import OuterRef, Q, Subquery

from customers.models import Address, Customer, display_name
from tenants.history import (
    Actor,
    Change,
    actor_of,
    changes_between,
    diff_fields,
    label_refs,
    related_labels,
)

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class TimelineSource:
    """A tracked model whose changes belong to a customer's timeline.

    ``customer_field``: the historical model's field holding the customer's primary key.
    ``title(record)``: the object as a person recognises it, from one historical row (whose
    foreign keys are labelled by ``labels(field_name)``).
    ``object_id(record)``: its public id, or None.
    ``exclude``: fields that are not shown as changes (the link to the customer itself).
    ``store_field``: for rows that belong to a store, the historical model's field holding the
    store's id: a caller who reaches only some stores sees only theirs (``store_ids``).
    """

    key: str
    model: type[models.Model]
    customer_field: str
    title: Callable[[Any, Callable[[str], str | None]], str]
    object_id: Callable[[Any], str | None] = lambda record: None
    exclude: frozenset[str] = frozenset()
    store_field: str | None = None

    @property
    def history_model(self):
        return self.model.history.model

    def diff_fields(self) -> list[models.Field]:
        return diff_fields(self.model, self.exclude)


_SOURCES: dict[str, TimelineSource] = {}


def timeline_register(source: TimelineSource) -> None:
    """Add a model to every customer's timeline (idempotent, by ``source.key``)."""
    _SOURCES[source.key] = source


def timeline_sources() -> list[TimelineSource]:
    return [_SOURCES[key] for key in sorted(_SOURCES)]


class Position(NamedTuple):
    """An entry's place in the timeline (what a cursor carries)."""

    at: datetime
    key: str
    history_id: int

    def as_values(self) -> list:
        return [self.at.isoformat(), self.key, self.history_id]

    @classmethod
    def from_values(cls, values: list) -> Position:
        """The inverse of ``as_values``; ValueError for anything else."""
        if len(values) != 3:
            raise ValueError("a position has three parts")
        at, key, history_id = values
        if not isinstance(at, str) or not isinstance(key, str):
            raise ValueError("malformed position")
        if not isinstance(history_id, int) or isinstance(history_id, bool):
            raise ValueError("malformed position")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or not 0 < history_id < 2**63 or len(key) > 64:
            raise ValueError("malformed position")
        return cls(moment, key, history_id)


@dataclass
class TimelineEntry:
    id: str  # "<source key>:<history id>"
    at: datetime
    action: str  # created, changed, deleted
    object_type: str
    object_id: str | None
    title: str
    actor: Actor
    reason: str
    changes: list[Change] = field(default_factory=list)
    position: Position | None = None

    @property
    def summary(self) -> str:
        return f"{self.title} {self.action}"


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    next: Position | None  # where the next page starts; None: this is the last page


def _after(position: Position | None, key: str) -> Q:
    """The rows of source ``key`` that come after ``position`` (newest first)."""
    if position is None:
        return Q()
    if key < position.key:
        return Q(history_date__lte=position.at)
    if key > position.key:
        return Q(history_date__lt=position.at)
    return Q(history_date__lt=position.at) | Q(
        history_date=position.at, history_id__lt=position.history_id
    )


def _candidates(source: TimelineSource, customer_pk, position, limit: int, store_ids=None) -> list:
    history = source.history_model
    pk_name = source.model._meta.pk.attname
    previous = (
        history.objects.filter(
            **{pk_name: OuterRef(pk_name)}, history_id__lt=OuterRef("history_id")
        )
        .order_by("-history_id")
        .values("history_id")[:1]
    )
    return list(
        history.objects.filter(**{source.customer_field: customer_pk})
        .filter(_after(position, source.key))
        .filter(_in_stores(source, store_ids))
        .select_related("history_user")
        .annotate(previous_history_id=Subquery(previous))
        .order_by("-history_date", "-history_id")[:limit]
    )


def _in_stores(source: TimelineSource, store_ids) -> Q:
    if store_ids is None or source.store_field is None:
        return Q()
    return Q(**{f"{source.store_field}__in": store_ids})


#: at most this many rows of one source are read for one round of a page
MAX_FETCH = 1000


def customer_timeline(
    *,
    customer: Customer,
    limit: int = 20,
    after: Position | None = None,
    rounds: int = 3,
    store_ids: frozenset | None = None,
) -> TimelinePage:
    """Up to ``limit`` entries of the customer's timeline after ``after`` (newest first).
    ``store_ids``: the stores the reader reaches (None: every store), as the store dialect
    and the admin scope store links for agents and viewers.

    Saves that changed nothing are skipped: twice the rows a page needs are read, and when
    they held too many such saves, four times as many again, for at most ``rounds`` rounds. A page then
    holds ``limit`` entries, or fewer with a ``next`` only when a customer's history is mostly
    such saves."""
    sources = timeline_sources()
    entries: list[TimelineEntry] = []
    position = after
    for round_ in range(rounds):
        fetch = min((limit - len(entries) + 1) * 2 * 4**round_, MAX_FETCH)
        candidates = []
        for source in sources:
            for record in _candidates(source, customer.pk, position, fetch + 1, store_ids):
                candidates.append((record.history_date, source.key, record.history_id, record))
        candidates.sort(key=lambda c: c[:3], reverse=True)
        batch = candidates[:fetch]
        built = _entries(batch)
        room = limit - len(entries)
        if len(built) > room:
            entries.extend(built[:room])
            return TimelinePage(entries, entries[-1].position)
        entries.extend(built)
        if len(candidates) <= fetch:
            return TimelinePage(entries, None)
        position = Position(*batch[-1][:3])
        if len(entries) == limit:
            break
    return TimelinePage(entries, position)


def _entries(taken: list) -> list[TimelineEntry]:
    by_source: dict[str, list] = {}
    for _, key, _, record in taken:
        by_source.setdefault(key, []).append(record)
    previous: dict[tuple[str, int], Any] = {}
    refs: dict[type[models.Model], set] = {}
    for key, records in by_source.items():
        source = _SOURCES[key]
        ids = [r.previous_history_id for r in records if r.history_type == "~"]
        ids = [i for i in ids if i is not None]
        if ids:
            for old in source.history_model.objects.filter(history_id__in=ids):
                previous[(key, old.history_id)] = old
        rows = records + [previous[(key, i)] for i in ids if (key, i) in previous]
        for model, pks in label_refs(source.diff_fields(), rows).items():
            refs.setdefault(model, set()).update(pks)
    labels = related_labels(refs)
    out = []
    for at, key, history_id, record in taken:
        source = _SOURCES[key]
        changes = []
        if record.history_type == "~":
            old = previous.get((key, record.previous_history_id))
            if old is None:
                continue  # a change of a row created before history was kept: nothing to show
            changes = changes_between(source.diff_fields(), old, record, labels)
            if not changes:
                continue  # saved without a change

        def label(name, record=record):
            f = record._meta.get_field(name)
            return labels.get((f.related_model, getattr(record, f.attname)))

        out.append(
            TimelineEntry(
                id=f"{key}:{history_id}",
                at=at,
                action=ACTIONS[record.history_type],
                object_type=key,
                object_id=source.object_id(record),
                title=source.title(record, label),
                actor=actor_of(record),
                reason=record.history_change_reason or "",
                changes=changes,
                position=Position(at, key, history_id),
            )
        )
    return out


# --- the customer's own sources --------------------------------------------------------------


def _customer_title(record, label) -> str:
    name = display_name(
        record.name,
        record.local_name,
        record.first_name,
        record.preposition,
        record.last_name,
        record.discord_display_name,
        record.discord_username,
        record.email,
    )
    return f"Customer '{name}'" if name else f"Customer {record.id}"


def _address_title(record, label) -> str:
    line = str(record.history_object)  # the one-line form (Address.__str__), or the key
    return f"Address '{record.key}' ({line})" if line != record.key else f"Address '{line}'"


timeline_register(
    TimelineSource(
        key="customer",
        model=Customer,
        customer_field="id",
        title=_customer_title,
        object_id=lambda record: str(record.uuid),
        exclude=frozenset({"tenant"}),
    )
)
timeline_register(
    TimelineSource(
        key="address",
        model=Address,
        customer_field="customer_id",
        title=_address_title,
        object_id=lambda record: str(record.id),
        exclude=frozenset({"customer"}),
    )
)
