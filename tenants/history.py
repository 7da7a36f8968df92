"""Change history (django-simple-history) with the author of each change.

Every tracked model (``history = tracked(...)``) gets a historical model with the author of
each change, whatever made it:

- a user (``history_user``): DRF copies the authenticated user onto the Django request, so a
  change made through any dialect, or the admin, is the user's;
- an API key (``history_api_key_id`` and ``history_api_key_name``): the key's id and its name
  when the change was made (the name stays readable when the key is renamed or deleted);
- neither: the system, and ``history_origin`` says which part of it (``manage.py <command>``,
  or what ``history_context`` names).

``history_origin`` also says through which door a request came: ``admin``, or the API
dialect (``api:b2b``, ``api:data``...). ``format_value`` and ``related_labels`` turn the
stored values of any model into what a person reads (labels, not primary keys); the
customer timeline (customers/history.py) and the admin's history pages use them.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import models
from django.dispatch import receiver
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record


def history_user(instance=None, request=None, **kwargs):
    request = request or getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    if isinstance(user, get_user_model()) and user.is_authenticated:
        return user
    return None


class HistoricalAuthorship(models.Model):
    """The author fields of every historical model (``tracked`` passes it as ``bases``)."""

    # Not a foreign key: a historical row never changes, and a deleted key leaves its id and
    # name behind (history_api_key_name); nor does the row reach its tenant through the key.
    history_api_key_id = models.UUIDField(
        null=True, blank=True, help_text="The API key that made the change, if one did."
    )
    history_api_key_name = models.CharField(max_length=100, blank=True, default="")
    history_origin = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="admin, api:<dialect>, manage.py <command>, or what made a system change.",
    )

    class Meta:
        abstract = True

    @property
    def history_actor(self) -> Actor:
        return actor_of(self)

    @property
    def history_author(self) -> str:
        """Who made the change, for a person: a user name, an API key's name, or system."""
        return self.history_actor.label


def tracked(**kwargs) -> HistoricalRecords:
    return HistoricalRecords(get_user=history_user, bases=[HistoricalAuthorship], **kwargs)


# --- who made a change ---------------------------------------------------------------------------

_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("history", default=None)


@contextlib.contextmanager
def history_context(*, origin: str = "", reason: str = ""):
    """Changes made inside are recorded with this origin (outside a request: what the system
    is doing, e.g. ``manage.py import_customers``) and, when they have none, this reason.
    Nested contexts keep what the outer one says and they do not."""
    outer = _context.get() or {}
    token = _context.set(
        {"origin": origin or outer.get("origin", ""), "reason": reason or outer.get("reason", "")}
    )
    try:
        yield
    finally:
        _context.reset(token)


def _process_origin() -> str:
    """``manage.py <command>`` when this process runs a management command, else ``system``."""
    argv = sys.argv or [""]
    program = os.path.basename(argv[0])
    if program in ("manage.py", "django-admin") and len(argv) > 1:
        return f"manage.py {argv[1]}"[:64]
    return "system"


def _request_origin(request) -> str:
    from tenants.api.dialect import dialect_for_path

    path = getattr(request, "path", "") or ""
    if path.startswith("/admin/"):
        return "admin"
    dialect = dialect_for_path(path)
    return f"api:{dialect.name}" if dialect is not None else "web"


def author_fields() -> dict:
    """The author columns of a historical row written now (``history_user`` aside): the API
    key of the current request, if one made it, and the origin. For code that writes
    historical rows itself (stores.services' bulk removal) and for every other row."""
    context = _context.get() or {}
    request = getattr(HistoricalRecords.context, "request", None)
    fields = {"history_api_key_id": None, "history_api_key_name": ""}
    if request is not None:
        api_key = getattr(getattr(request, "user", None), "api_key", None)
        if api_key is not None:
            fields.update(history_api_key_id=api_key.pk, history_api_key_name=api_key.name[:100])
        fields["history_origin"] = context.get("origin") or _request_origin(request)
    else:
        fields["history_origin"] = context.get("origin") or _process_origin()
    return fields


def context_reason() -> str:
    """The reason ``history_context`` gives the changes made inside it ("" outside)."""
    return ((_context.get() or {}).get("reason") or "")[:100]


@receiver(pre_create_historical_record)
def _record_author(sender, history_instance, **kwargs):
    """Stamp the API key and the origin on every historical row as it is written."""
    if not isinstance(history_instance, HistoricalAuthorship):
        return
    for name, value in author_fields().items():
        setattr(history_instance, name, value)
    if not history_instance.history_change_reason:
        history_instance.history_change_reason = context_reason() or None


@dataclass(frozen=True)
class Actor:
    """The author of a change: ``kind`` is ``user``, ``api_key`` or ``system``."""

    kind: str
    name: str
    id: str | None
    origin: str

    @property
    def label(self) -> str:
        if self.kind == "api_key":
            return f"API key '{self.name}'"
        if self.kind == "system":
            detail = self.origin if self.origin not in ("", "system") else ""
            return f"system ({detail})" if detail else "system"
        return self.name

    @property
    def via(self) -> str:
        """Through which door a person or key came, for a person ("" for the system)."""
        if self.kind == "system":
            return ""
        if self.origin == "admin":
            return "the admin"
        if self.origin.startswith("api:"):
            return f"the {self.origin[4:]} API"
        return self.origin


def actor_of(record) -> Actor:
    """The author of a historical row (select ``history_user`` with it: one query less)."""
    origin = getattr(record, "history_origin", "") or ""
    if record.history_user_id is not None:
        user = record.history_user
        name = user.get_username() if user is not None else f"user {record.history_user_id}"
        return Actor("user", name, str(record.history_user_id), origin)
    key_id = getattr(record, "history_api_key_id", None)
    if key_id is not None:
        name = record.history_api_key_name or str(key_id)
        return Actor("api_key", name, str(key_id), origin)
    return Actor("system", origin or "system", None, origin)


# --- values as a person reads them ---------------------------------------------------------------

#: how a missing value reads
EMPTY = None


def related_labels(refs: dict[type[models.Model], set]) -> dict[tuple[type, object], str]:
    """``{(model, pk): label}`` of the objects ``refs`` names: one query per model, and for
    objects that no longer exist, one query of their history (their last known form)."""
    labels: dict[tuple[type, object], str] = {}
    for model, pks in refs.items():
        pks = {pk for pk in pks if pk is not None}
        if not pks:
            continue
        for obj in model._default_manager.filter(pk__in=pks):
            labels[(model, obj.pk)] = _label(obj)
        missing = {pk for pk in pks if (model, pk) not in labels}
        manager_name = getattr(model._meta, "simple_history_manager_attribute", None)
        if missing and manager_name:
            pk_name = model._meta.pk.attname
            history = getattr(model, manager_name)
            for record in history.filter(**{f"{pk_name}__in": missing}).order_by(
                pk_name, "-history_date", "-history_id"
            ):
                key = (model, getattr(record, pk_name))
                if key not in labels:
                    # history_object: the row as it was, without a query (``instance`` reads
                    # the live row's fields that history does not keep)
                    labels[key] = f"{_label(record.history_object)} (deleted)"
        for pk in pks:
            labels.setdefault((model, pk), f"deleted {model._meta.verbose_name}")
    return labels


def _label(obj) -> str:
    if isinstance(obj, get_user_model()):
        return obj.get_username()
    return str(obj)


def format_value(field: models.Field, value, labels: dict | None = None) -> str | None:
    """A stored value as a person reads it: a label for a foreign key (from ``labels``, as
    ``related_labels`` builds it) or a choice, Yes/No, a date with its time zone."""
    if value is None or value == "":
        return EMPTY
    if field.is_relation:
        related = field.related_model
        if labels is not None and (related, value) in labels:
            return labels[(related, value)]
        return f"{related._meta.verbose_name} {value}"
    if isinstance(field, models.BooleanField):
        return "Yes" if value else "No"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v not in (None, "")) or EMPTY
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or EMPTY
    return str(value)


def field_label(field: models.Field) -> str:
    name = str(field.verbose_name)
    return name[:1].upper() + name[1:]


@dataclass(frozen=True)
class Change:
    field: str  # the field's name
    label: str  # what a person calls it
    old: str | None
    new: str | None


def history_model(model):
    return getattr(model, model._meta.simple_history_manager_attribute).model


def diff_fields(model, exclude: Iterable[str] = ()) -> list[models.Field]:
    """The fields of ``model``'s historical model whose changes a person reads: the model's
    editable fields but its primary key and ``exclude``."""
    exclude = set(exclude)
    shown = {
        f.name
        for f in model._meta.concrete_fields
        if f.editable and not f.primary_key and f.name not in exclude
    }
    return [f for f in history_model(model)._meta.concrete_fields if f.name in shown]


def changes_between(
    fields: Iterable[models.Field], old, new, labels: dict | None = None
) -> list[Change]:
    """What changed from historical row ``old`` to ``new``, in ``fields``' order."""
    out = []
    for field in fields:
        before, after = getattr(old, field.attname), getattr(new, field.attname)
        if before == after:
            continue
        out.append(
            Change(
                field.name,
                field_label(field),
                format_value(field, before, labels),
                format_value(field, after, labels),
            )
        )
    return out


def label_refs(fields: Iterable[models.Field], records: Iterable) -> dict[type, set]:
    """What ``related_labels`` needs to label the foreign keys among ``fields`` of
    ``records``."""
    refs: dict[type[models.Model], set] = {}
    relations = [f for f in fields if f.is_relation]
    for record in records:
        for f in relations:
            value = getattr(record, f.attname)
            if value is not None:
                refs.setdefault(f.related_model, set()).add(value)
    return refs
