"""Tenant scoping for the Django admin: one mixin on every ModelAdmin and inline (issue 7).

Who sees what:

- a superuser sees every tenant's objects;
- a *tenant admin* (``is_staff`` plus an active ``admin`` membership of an active tenant) sees
  and edits only the objects of the tenants it administers;
- any other staff user sees nothing (the admin answers as if the models did not exist).

Every model names the path from itself to its tenant (``tenant_path``: ``"tenant"``,
``"customer__tenant"``, ``"pk"`` for ``Tenant`` itself ...). From that one path the mixin
scopes the change list, the change/delete/history views (another tenant's object is "not
found"), autocomplete results (Django's autocomplete view uses the target admin's
``get_queryset``), foreign-key and many-to-many choices, list filters, and bulk actions (which
run on the scoped queryset, so foreign ids in a forged action POST are silently ignored).

A forged cross-tenant foreign-key id in a POST fails form validation (the choice is not in the
scoped queryset, and every related object must belong to the object's own tenant), so nothing
is written.

Writes go through the apps' services: a ModelAdmin calls them from ``save_model``; an inline
may define ``save_formset(request, form, formset, change)`` and the parent admin delegates to
it. A ``DomainError`` raised by a service (a race past form validation) rolls the whole change
back and is shown as an error message.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.utils import get_fields_from_path, lookup_spawns_duplicates, unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.http import Http404, HttpResponseRedirect

from tenants import errors
from tenants.models import Membership, Role, Tenant

_TENANT_PATHS: dict[type[models.Model], str] = {}
_CACHE_ATTR = "_hub_admin_tenant_ids"


def register_tenant_path(model: type[models.Model], path: str) -> None:
    """Declare how ``model`` reaches its tenant (admins and inlines do it automatically)."""
    _TENANT_PATHS.setdefault(model, path)


def tenant_path_for(model: type[models.Model]) -> str | None:
    if model in _TENANT_PATHS:
        return _TENANT_PATHS[model]
    if model is Tenant:
        return "pk"
    if model is get_user_model():
        return "memberships__tenant"
    try:
        field = model._meta.get_field("tenant")
    except FieldDoesNotExist:
        return None
    return "tenant" if getattr(field, "related_model", None) is Tenant else None


def admin_tenant_ids(request) -> frozenset | None:
    """The tenants ``request.user`` administers; ``None`` means every tenant (superuser)."""
    user = request.user
    if user.is_active and user.is_superuser:
        return None
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is None:
        if user.is_active and user.is_staff:
            cached = frozenset(
                Membership.objects.filter(
                    user=user, role=Role.ADMIN, is_active=True, tenant__is_active=True
                ).values_list("tenant_id", flat=True)
            )
        else:
            cached = frozenset()
        setattr(request, _CACHE_ATTR, cached)
    return cached


def scope(queryset, path: str, tenant_ids) -> models.QuerySet:
    """``queryset`` limited to the objects whose tenant (reached by ``path``) is allowed."""
    if tenant_ids is None:
        return queryset
    lookup = {f"{path}__in": tenant_ids}
    if path != "pk" and lookup_spawns_duplicates(queryset.model._meta, path):
        # e.g. users through their memberships: a subquery instead of a DISTINCT join.
        inner = queryset.model._default_manager.filter(**lookup).values("pk")
        return queryset.filter(pk__in=inner)
    return queryset.filter(**lookup)


def tenant_id_of(obj, path: str):
    """The tenant id of ``obj`` following ``path`` (``None`` if it cannot be told)."""
    if obj is None:
        return None
    if path == "pk":
        return obj.pk
    parts = path.split("__")
    try:
        for part in parts[:-1]:
            obj = getattr(obj, part)
            if obj is None:
                return None
        return getattr(obj, parts[-1] + "_id")
    except (AttributeError, ObjectDoesNotExist):
        return None


def _is_multi_valued(model, path: str) -> bool:
    return path != "pk" and lookup_spawns_duplicates(model._meta, path)


def _form_object_tenant(form, path: str):
    """The tenant the object being edited belongs to, from the form's data or its instance."""
    if path == "pk":
        return form.instance.pk
    first, _, rest = path.partition("__")
    if first in form.cleaned_data:
        target = form.cleaned_data[first]
    else:
        try:
            target = getattr(form.instance, first)
        except ObjectDoesNotExist:
            target = None
    if target is None:
        return None
    return target.pk if not rest else tenant_id_of(target, rest)


WRONG_TENANT = "This object belongs to another tenant."


class TenantCheckedForm:
    """Mixed into every admin form: the object and everything it points to share a tenant."""

    scope_path: str | None = None
    scope_tenant_ids: frozenset | None = None

    def clean(self):
        cleaned = super().clean()
        path = self.scope_path
        if not path or _is_multi_valued(self._meta.model, path):
            return cleaned
        own = _form_object_tenant(self, path)
        ids = self.scope_tenant_ids
        if own is not None and ids is not None and own not in ids:
            self.add_error(None, "You cannot manage objects of this tenant.")
            return cleaned
        for name, value in list(self.cleaned_data.items()):
            values = value if isinstance(value, models.QuerySet | list | tuple) else [value]
            for item in values:
                if not isinstance(item, models.Model) or isinstance(item, get_user_model()):
                    continue
                rel_path = tenant_path_for(type(item))
                if rel_path is None or _is_multi_valued(type(item), rel_path):
                    continue
                rel_tenant = tenant_id_of(item, rel_path)
                allowed = self.scope_tenant_ids is None or rel_tenant in self.scope_tenant_ids
                if not allowed or (own is not None and rel_tenant not in (None, own)):
                    if name in self.fields:
                        self.add_error(name, WRONG_TENANT)
                    else:
                        self.add_error(None, WRONG_TENANT)
                    break
        return cleaned


def _checked_form(form_class, path, tenant_ids):
    return type(
        form_class.__name__,
        (TenantCheckedForm, form_class),
        {"scope_path": path, "scope_tenant_ids": tenant_ids, "__module__": __name__},
    )


class _ScopedBase:
    """What ModelAdmins and inlines share: scoped querysets and choices."""

    tenant_path: str = "tenant"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        model = cls.__dict__.get("model")
        if model is not None and cls.tenant_path:
            register_tenant_path(model, cls.tenant_path)

    def get_queryset(self, request):
        return scope(super().get_queryset(request), self.tenant_path, admin_tenant_ids(request))

    def _scoped_choices(self, db_field, request):
        related = db_field.related_model
        path = tenant_path_for(related)
        if path is None:
            return None
        queryset = self.get_field_queryset(None, db_field, request)
        if queryset is None:
            queryset = related._default_manager.all()
        return scope(queryset, path, admin_tenant_ids(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = self._scoped_choices(db_field, request)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = self._scoped_choices(db_field, request)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _allowed(self, request) -> bool:
        ids = admin_tenant_ids(request)
        return ids is None or bool(ids)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, *args):
        return self._allowed(request) and super().has_add_permission(request, *args)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request) and super().has_delete_permission(request, obj)


class TenantScopedAdmin(_ScopedBase, admin.ModelAdmin):
    """Base of every ModelAdmin of the hub (combine with ``SimpleHistoryAdmin`` first)."""

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        if self.tenant_path:
            register_tenant_path(model, self.tenant_path)

    def has_module_permission(self, request):
        return self._allowed(request) and super().has_module_permission(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return _checked_form(form, self.tenant_path, admin_tenant_ids(request))

    def get_list_filter(self, request):
        return self.scoped_list_filter(super().get_list_filter(request))

    def scoped_list_filter(self, list_filter) -> list:
        """Related filters list only the objects reachable from the scoped change list."""
        scoped = []
        for item in list_filter:
            if isinstance(item, str):
                try:
                    field = get_fields_from_path(self.model, item)[-1]
                except (FieldDoesNotExist, admin.utils.NotRelationField):
                    field = None
                if field is not None and field.is_relation:
                    item = (item, RelatedOnlyFieldListFilter)
            scoped.append(item)
        return scoped

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and self.tenant_path == "tenant" and "tenant" not in fields:
            fields.append("tenant")  # objects never move between tenants
        return fields

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        ids = admin_tenant_ids(request)
        if self.tenant_path == "tenant" and ids and len(ids) == 1:
            initial.setdefault("tenant", next(iter(ids)))
        return initial

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except errors.DomainError as exc:  # the transaction was rolled back
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_formset(self, request, form, formset, change):
        inline = getattr(formset, "inline_admin", None)
        if inline is not None and hasattr(inline, "save_formset"):
            inline.save_formset(request, form, formset, change)
        else:
            super().save_formset(request, form, formset, change)

    def get_scoped_object(self, request, object_id):
        """The object, or Http404 when it is missing or another tenant's."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("Not found.")
        return obj

    # django-simple-history's views look objects and versions up without get_queryset.
    def history_view(self, request, object_id, extra_context=None):
        if admin_tenant_ids(request) is not None:
            self.get_scoped_object(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if admin_tenant_ids(request) is not None:
            self.get_scoped_object(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class TenantScopedInlineMixin(_ScopedBase):
    """Base of every inline: scoped rows and choices, tenant-checked forms."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = _checked_form(formset.form, self.tenant_path, admin_tenant_ids(request))
        formset.inline_admin = self
        return formset


def adopt(target: models.Model, created: models.Model) -> models.Model:
    """Make the admin's unsaved ``target`` the row a service just created (same pk and values)."""
    for field in target._meta.concrete_fields:
        setattr(target, field.attname, getattr(created, field.attname))
    target._state.adding = False
    target._state.db = created._state.db
    return target


def save_formset_via(formset, *, create, update=None, delete=None) -> None:
    """Save an inline formset through services instead of ``formset.save()``.

    ``create(form) -> instance`` makes a new row (adopted into the form's instance);
    ``update(form)`` saves a changed row (default: ``form.instance.save()``, after the
    form's tenant checks); ``delete(form)`` removes a deleted row (default: delete it).
    Records what ``formset.save()`` would, for the admin's change message.
    """
    new, changed, deleted = [], [], []
    for form in formset.deleted_forms:
        if form.instance.pk:
            (delete or (lambda f: f.instance.delete()))(form)
            deleted.append(form.instance)
    for form in formset.forms:
        if form in formset.deleted_forms or not form.has_changed():
            continue
        if form.instance._state.adding:
            new.append(adopt(form.instance, create(form)))
        else:
            (update or (lambda f: f.instance.save()))(form)
            changed.append((form.instance, form.changed_data))
    mark_formset_saved(formset, new, changed, deleted)


def keep_inactive(instance, is_active: bool):
    """A grant service activates; honour an admin row that was added inactive."""
    if not is_active:
        instance.is_active = False
        instance.save(update_fields=["is_active", "updated_at"])
    return instance


def mark_formset_saved(formset, new=(), changed=(), deleted=()) -> None:
    """What ``formset.save()`` records, for the admin's change message."""
    formset.new_objects = list(new)
    formset.changed_objects = list(changed)
    formset.deleted_objects = list(deleted)


# --- The admin index's per-tenant overview --------------------------------------------------
# Each app registers its own counter (apps depend on tenants, never the other way round):
# ``count(tenant_ids)`` returns ``{tenant_id: n}`` in one grouped query (``None``: all tenants).
_INDEX_COUNTERS: list[tuple[int, str, object]] = []


def register_index_count(label: str, count, *, order: int = 100) -> None:
    if all(existing != label for _, existing, _ in _INDEX_COUNTERS):
        _INDEX_COUNTERS.append((order, label, count))
        _INDEX_COUNTERS.sort(key=lambda item: (item[0], item[1]))


def grouped_count(queryset, path: str, tenant_ids) -> dict:
    """``{tenant_id: count}`` of ``queryset`` grouped by the tenant reached by ``path``."""
    rows = scope(queryset, path, tenant_ids).values(path).annotate(n=models.Count("pk"))
    return {row[path]: row["n"] for row in rows.order_by()}


def tenant_overview(request) -> dict:
    """Rows for the admin index: each tenant the user administers, with every app's counts."""
    tenant_ids = admin_tenant_ids(request)
    tenants = list(scope(Tenant.objects.order_by("slug"), "pk", tenant_ids))
    labels = [label for _, label, _ in _INDEX_COUNTERS]
    counts = [count(tenant_ids) for _, _, count in _INDEX_COUNTERS]
    return {
        "labels": labels,
        "rows": [
            {"tenant": tenant, "counts": [c.get(tenant.pk, 0) for c in counts]}
            for tenant in tenants
        ],
    }
