"""Tenant scoping and roles for the Django admin: one mixin on every ModelAdmin and inline.

Who sees what (roles: tenants/roles.py; staff flags and groups follow the memberships):

- a superuser sees every tenant's objects;
- a member (an active membership of an active tenant) sees the objects of its tenants, and
  what it may do with them is Django's permissions: the union of its roles' groups decides
  what the admin shows (the index, the pages, the buttons), and every object check
  (``has_change_permission(request, obj)`` and the others) asks the role in the object's
  own tenant, so a user who is admin in one tenant and viewer in another only views the
  second one's objects;
- the store links (and stores) of a tenant where the user is an agent or a viewer are those
  of the stores it has an active ``StoreMembership`` with, as in the API;
- any other user sees nothing (the admin answers as if the models did not exist).

Every model names the path from itself to its tenant (``tenant_path``: ``"tenant"``,
``"customer__tenant"``, ``"pk"`` for ``Tenant`` itself ...), and store-owned ones the path to
their store (``store_path``). From those paths the mixin scopes the change list, the
change/delete/history views (another tenant's object is "not found"), autocomplete results
(Django's autocomplete view uses the target admin's ``get_queryset``), foreign-key and
many-to-many choices, list filters, and bulk actions (which run on the scoped queryset, cut
down to the tenants where the role allows the action, so foreign ids in a forged action POST
are silently ignored).

A forged cross-tenant foreign-key id in a POST fails form validation (the choice is not in the
scoped queryset, and every related object must belong to the object's own tenant), so nothing
is written.

Writes go through the apps' services, never ``obj.save()``: a ModelAdmin says which in
``save_model``, ``delete_model`` and ``delete_queryset`` (the defaults here refuse), an inline in
``save_formset(request, form, formset, change)`` (the parent admin delegates to it). A
``DomainError`` raised by a service, or a constraint violated by a race past validation,
rolls the whole change back and the same form is shown again with the error on its field.
"""

from __future__ import annotations

import functools

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path, lookup_spawns_duplicates, unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_permission_codename, get_user_model
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ObjectDoesNotExist
from django.core.paginator import InvalidPage, Paginator
from django.db import IntegrityError, models
from django.db.models import Q
from django.http import Http404

from tenants import counts, errors
from tenants.constraints import integrity_message, translate_form_errors
from tenants.models import Membership, Role, Tenant
from tenants.paging import page_keys
from tenants.reach import store_reach
from tenants.roles import role_allows

_TENANT_PATHS: dict[type[models.Model], str] = {}
_STORE_PATHS: dict[type[models.Model], str] = {}
_ROLES_ATTR = "_hub_admin_roles"
_STORES_ATTR = "_hub_admin_store_ids"
_ERROR_ATTR = "_hub_admin_write_error"


def register_tenant_path(model: type[models.Model], path: str) -> None:
    """Declare how ``model`` reaches its tenant (admins and inlines do it automatically)."""
    _TENANT_PATHS.setdefault(model, path)


def register_store_path(model: type[models.Model], path: str) -> None:
    """Declare how a store-owned ``model`` reaches its store (``"pk"`` for the store)."""
    _STORE_PATHS.setdefault(model, path)


def store_path_for(model: type[models.Model]) -> str | None:
    return _STORE_PATHS.get(model)


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


def admin_roles(request) -> dict | None:
    """``{tenant_id: role}`` of ``request.user``'s active memberships of active tenants;
    ``None`` means every tenant, as admin (superuser). Read once per request."""
    user = request.user
    if user.is_active and user.is_superuser:
        return None
    cached = getattr(request, _ROLES_ATTR, None)
    if cached is None:
        if user.is_active and user.is_staff:
            cached = dict(
                Membership.objects.filter(
                    user=user, is_active=True, tenant__is_active=True
                ).values_list("tenant_id", "role")
            )
        else:
            cached = {}
        setattr(request, _ROLES_ATTR, cached)
    return cached


def admin_tenant_ids(request) -> frozenset | None:
    """The tenants ``request.user`` may see in the admin; ``None`` means every tenant."""
    roles = admin_roles(request)
    return None if roles is None else frozenset(roles)


def tenant_ids_allowing(request, *perms: str) -> frozenset | None:
    """The tenants where ``request.user``'s role grants every one of ``perms``."""
    roles = admin_roles(request)
    if roles is None:
        return None
    return frozenset(t for t, role in roles.items() if all(role_allows(role, p) for p in perms))


def admin_store_ids(request) -> frozenset:
    """The stores ``request.user`` has an active relation with (active stores only, as the
    store dialect's access does)."""
    cached = getattr(request, _STORES_ATTR, None)
    if cached is None:
        cached = store_reach().user_store_ids(user=request.user)
        setattr(request, _STORES_ATTR, cached)
    return cached


def scope_rows(queryset, request, tenant_path: str, store_path: str | None = None):
    """``queryset`` limited to what ``request.user`` may see: its tenants' rows and, for
    store-owned rows of a tenant where it is not admin, those of its stores."""
    roles = admin_roles(request)
    queryset = scope(queryset, tenant_path, None if roles is None else frozenset(roles))
    if roles is None or not store_path:
        return queryset
    whole = [t for t, role in roles.items() if role == Role.ADMIN]
    if len(whole) == len(roles):
        return queryset
    return queryset.filter(
        Q(**{f"{tenant_path}__in": whole}) | Q(**{f"{store_path}__in": admin_store_ids(request)})
    )


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
    """Mixed into every admin form: the object and everything it points to share a tenant,
    in one the user's role may write; constraint errors read as sentences; and the error a
    service raised on the first try of this very POST is shown (``write_error``)."""

    scope_path: str | None = None
    scope_tenant_ids: frozenset | None = None
    write_error: tuple[str | None, str] | None = None

    def _post_clean(self):
        super()._post_clean()
        translate_form_errors(self)

    def clean(self):
        cleaned = super().clean()
        if self.write_error is not None:
            field, message = self.write_error
            self.add_error(field if field in self.fields else None, message)
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
                if rel_tenant is None:
                    continue  # not in a tenant yet: the object being added, seen from a row
                allowed = self.scope_tenant_ids is None or rel_tenant in self.scope_tenant_ids
                if not allowed or (own is not None and rel_tenant not in (None, own)):
                    if name in self.fields:
                        self.add_error(name, WRONG_TENANT)
                    else:
                        self.add_error(None, WRONG_TENANT)
                    break
        return cleaned


def _checked_form(form_class, path, tenant_ids, write_error=None):
    return type(
        form_class.__name__,
        (TenantCheckedForm, form_class),
        {
            "scope_path": path,
            "scope_tenant_ids": tenant_ids,
            "write_error": write_error,
            "__module__": __name__,
        },
    )


def _write_error(exc: Exception, form_fields) -> tuple[str | None, str]:
    """``(field, message)`` of a service's ``DomainError`` or a violated constraint."""
    if isinstance(exc, IntegrityError):
        return integrity_message(exc)
    for name, messages in (exc.fields or {}).items():
        if name in form_fields and messages:
            return name, str(messages[0])
    return None, exc.message


def _union(a: frozenset | None, b: frozenset | None) -> frozenset | None:
    return None if a is None or b is None else a | b


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related filter offering the related objects the user may see: read from the
    related (small) table, where ``RelatedOnlyFieldListFilter`` reads every row of the list
    to find which of them occur (a scan of a million customers)."""

    def field_choices(self, field, request, model_admin):
        related = field.related_model
        path = tenant_path_for(related)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if path is None:
            return field.get_choices(include_blank=False, ordering=ordering)
        visible = scope_rows(related._default_manager.all(), request, path, store_path_for(related))
        return field.get_choices(
            include_blank=False,
            ordering=ordering,
            limit_choices_to=Q(pk__in=visible.values("pk")),
        )


class _ScopedBase:
    """What ModelAdmins and inlines share: scoped querysets and choices, role checks."""

    tenant_path: str = "tenant"
    store_path: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        model = cls.__dict__.get("model")
        if model is not None and cls.tenant_path:
            register_tenant_path(model, cls.tenant_path)
        if model is not None and cls.store_path:
            register_store_path(model, cls.store_path)

    def get_queryset(self, request):
        return scope_rows(super().get_queryset(request), request, self.tenant_path, self.store_path)

    def _scoped_choices(self, db_field, request):
        related = db_field.related_model
        path = tenant_path_for(related)
        if path is None:
            return None
        queryset = self.get_field_queryset(None, db_field, request)
        if queryset is None:
            queryset = related._default_manager.all()
        return scope_rows(queryset, request, path, store_path_for(related))

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

    # -- roles ----------------------------------------------------------------------------------
    def perm(self, action: str) -> str:
        """The Django permission of ``action`` (view, add, change, delete) on this model."""
        opts = self.opts
        return f"{opts.app_label}.{get_permission_codename(action, opts)}"

    def object_tenant_id(self, obj):
        """The tenant whose role decides what may be done to ``obj``."""
        return tenant_id_of(obj, self.tenant_path)

    def role_allows(self, request, obj, *actions: str) -> bool:
        """Whether the role in ``obj``'s tenant grants one of ``actions`` on this model."""
        roles = admin_roles(request)
        if roles is None or obj is None:
            return True
        tenant_id = self.object_tenant_id(obj)
        if tenant_id is None:
            return True  # an object not yet in a tenant: the form's checks decide
        return any(role_allows(roles.get(tenant_id), self.perm(action)) for action in actions)

    def _allowed(self, request) -> bool:
        ids = admin_tenant_ids(request)
        return ids is None or bool(ids)

    def has_view_permission(self, request, obj=None):
        return (
            self._allowed(request)
            and super().has_view_permission(request, obj)
            and self.role_allows(request, obj, "view", "change")
        )

    def has_change_permission(self, request, obj=None):
        return (
            self._allowed(request)
            and super().has_change_permission(request, obj)
            and self.role_allows(request, obj, "change")
        )

    def has_add_permission(self, request, *args):
        obj = args[0] if args else None  # inlines are asked with their parent object
        return (
            self._allowed(request)
            and super().has_add_permission(request, *args)
            and self.role_allows(request, obj, "add")
        )

    def has_delete_permission(self, request, obj=None):
        return (
            self._allowed(request)
            and super().has_delete_permission(request, obj)
            and self.role_allows(request, obj, "delete")
        )


class CountedPaginator(Paginator):
    """A paginator told its count (a kept count, or a count that stopped at a cap)."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.__dict__["count"] = count  # Paginator.count is a cached_property


class CountedChangeList(ChangeList):
    """A change list that does not count a big table on every page (docs/performance.md).

    Django's change list counts its rows (``COUNT(*)``, twice when filtered) and reads a page
    with ``ORDER BY … LIMIT``, which at a million rows costs more than the page itself, and
    far more when a search or a filter keeps few rows: the planner then walks the sort index
    testing every row. Here, for a ModelAdmin with a ``count_scope`` (a count kept per tenant
    by tenants/counts.py):

    - the whole list (no search, no filter) takes its total from the kept counts;
    - a searched or filtered list finds its matches once, stopping after ``count_cap`` of
      them, and reads their number and the page's keys in the same statement
      (``tenants.paging.page_keys``), then the page's rows by key; with more matches than
      that ("more than 1,000") they are common, and the page is read as Django does, from
      the sort index, which meets a page of them soon.
    """

    def get_results(self, request):
        admin_ = self.model_admin
        per_page, cap = self.list_per_page, admin_.count_cap
        self.count_capped = False
        result_list = None
        full = admin_.kept_count(request) if admin_.show_full_result_count else None
        if not self.query and self.queryset.query.where == self.root_queryset.query.where:
            result_count = admin_.kept_count(request)
        else:
            offset = (self.page_num - 1) * per_page
            try:
                keys, result_count = page_keys(
                    self.queryset, key="pk", offset=offset, limit=per_page, cap=cap
                )
            except ValueError:  # ordered by an expression: counted as Django does
                keys, result_count = None, self.queryset.count()
            if result_count > cap:
                result_count, self.count_capped = cap, True
            elif keys is not None:
                result_list = self.queryset.filter(pk__in=keys)
        # past the cap, one more row than it: the pages go on as far as the last full one
        counted = result_count + 1 if self.count_capped else result_count
        paginator = CountedPaginator(self.queryset, per_page, count=counted)
        can_show_all = result_count <= self.list_max_show_all and not self.count_capped
        multi_page = result_count > per_page
        if (self.show_all and can_show_all) or (result_list is None and not multi_page):
            result_list = self.queryset._clone()
        elif result_list is None or self.page_num > paginator.num_pages > 0:
            try:
                result_list = paginator.page(self.page_num).object_list
            except InvalidPage as exc:
                raise IncorrectLookupParameters from exc
        self.result_count = result_count
        self.show_full_result_count = admin_.show_full_result_count
        self.show_admin_actions = not self.show_full_result_count or bool(full)
        self.full_result_count = full
        self.result_list = result_list
        self.can_show_all = can_show_all
        self.multi_page = multi_page
        self.paginator = paginator


class TenantScopedAdmin(_ScopedBase, admin.ModelAdmin):
    """Base of every ModelAdmin of the hub (combine with ``SimpleHistoryAdmin`` first)."""

    #: the tenants.counts scope that counts this model's rows per tenant (a change list of a
    #: big table then pages with CountedChangeList), and the most rows a filtered list counts
    count_scope: str | None = None
    count_cap = 1_000

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        if self.tenant_path:
            register_tenant_path(model, self.tenant_path)
        if self.store_path:
            register_store_path(model, self.store_path)

    def has_module_permission(self, request):
        return self._allowed(request) and super().has_module_permission(request)

    def get_changelist(self, request, **kwargs):
        return CountedChangeList if self.count_scope else super().get_changelist(request, **kwargs)

    def counted_rows(self):
        """The rows ``count_scope`` counts (where the database keeps no count: SQLite)."""
        return self.model._default_manager.all()

    def kept_count(self, request) -> int:
        """The number of rows the user may see, from the counts kept per tenant."""
        ids = admin_tenant_ids(request)
        if ids is None:
            ids = Tenant.objects.values_list("pk", flat=True)
        rows = scope_rows(self.counted_rows(), request, self.tenant_path)
        return sum(
            counts.total(self.count_scope, tenant_id, rows.filter(**{self.tenant_path: tenant_id}))
            for tenant_id in ids
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        action = "change" if obj is not None else "add"
        return _checked_form(
            form,
            self.tenant_path,
            tenant_ids_allowing(request, self.perm(action)),
            getattr(request, _ERROR_ATTR, None),
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if (
            db_field.name == "tenant"
            and db_field.related_model is Tenant
            and "queryset" not in kwargs
        ):
            # a new object goes to a tenant where the role may add it
            kwargs["queryset"] = scope(
                Tenant.objects.all(), "pk", tenant_ids_allowing(request, self.perm("add"))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request):
        return self.scoped_list_filter(super().get_list_filter(request))

    def scoped_list_filter(self, list_filter) -> list:
        """Related filters offer only the related objects the user may see."""
        scoped = []
        for item in list_filter:
            if isinstance(item, str):
                try:
                    field = get_fields_from_path(self.model, item)[-1]
                except (FieldDoesNotExist, admin.utils.NotRelationField):
                    field = None
                if field is not None and field.is_relation:
                    item = (item, ScopedRelatedFieldListFilter)
            scoped.append(item)
        return scoped

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and self.tenant_path == "tenant" and "tenant" not in fields:
            fields.append("tenant")  # objects never move between tenants
        return fields

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        ids = tenant_ids_allowing(request, self.perm("add"))
        if self.tenant_path == "tenant" and ids and len(ids) == 1:
            initial.setdefault("tenant", next(iter(ids)))
        return initial

    # -- actions: each runs on the rows of the tenants where the role allows it ------------------
    def get_actions(self, request):
        actions = super().get_actions(request)
        return {
            name: (self._role_scoped_action(func), name, description)
            for name, (func, name, description) in actions.items()
        }

    def _role_scoped_action(self, func):
        needed = [self.perm(action) for action in getattr(func, "allowed_permissions", ())]

        @functools.wraps(func)
        def action(modeladmin, request, queryset):
            allowed = tenant_ids_allowing(request, *needed)
            return func(modeladmin, request, scope(queryset, self.tenant_path, allowed))

        return action

    # -- writes: through the services, with their errors on the form ------------------------------
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (errors.DomainError, IntegrityError) as exc:
            if request.method != "POST" or hasattr(request, _ERROR_ATTR):
                raise
            failure = exc
        # The transaction was rolled back: validate the same POST again, now with the
        # service's error on the form, which shows it as any other invalid input.
        fields = self.get_form(request, self._object_or_none(request, object_id)).base_fields
        setattr(request, _ERROR_ATTR, _write_error(failure, fields))
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _object_or_none(self, request, object_id):
        return None if object_id is None else self.get_object(request, unquote(object_id))

    def save_model(self, request, obj, form, change):
        raise ImproperlyConfigured(f"{type(self).__name__} must save through a service.")

    def delete_model(self, request, obj):
        raise ImproperlyConfigured(f"{type(self).__name__} must delete through a service.")

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        inline = getattr(formset, "inline_admin", None)
        if inline is not None and hasattr(inline, "save_formset"):
            inline.save_formset(request, form, formset, change)
        elif formset.deleted_forms or any(row.has_changed() for row in formset.forms):
            raise ImproperlyConfigured(
                f"{type(inline).__name__} must save its rows through a service."
            )
        else:
            mark_formset_saved(formset)

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
    """Base of every inline: scoped rows and choices, tenant-checked forms, and the role in
    the parent object's tenant."""

    def object_tenant_id(self, obj):
        path = tenant_path_for(self.parent_model)
        return tenant_id_of(obj, path) if path else None

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        writable = _union(
            tenant_ids_allowing(request, self.perm("add")),
            tenant_ids_allowing(request, self.perm("change")),
        )
        formset.form = _checked_form(formset.form, self.tenant_path, writable)
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
    ``update(form)`` saves a changed row and ``delete(form)`` removes a deleted one: an
    inline whose rows cannot be changed (or deleted) passes none, and such a row is refused.
    Records what ``formset.save()`` would, for the admin's change message.
    """
    new, changed, deleted = [], [], []
    for form in formset.deleted_forms:
        if form.instance.pk:
            if delete is None:
                raise ImproperlyConfigured("This inline's rows are not deleted here.")
            delete(form)
            deleted.append(form.instance)
    for form in formset.forms:
        if form in formset.deleted_forms or not form.has_changed():
            continue
        if form.instance._state.adding:
            new.append(adopt(form.instance, create(form)))
        else:
            if update is None:
                raise ImproperlyConfigured("This inline's rows are not changed here.")
            update(form)
            changed.append((form.instance, form.changed_data))
    mark_formset_saved(formset, new, changed, deleted)


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
