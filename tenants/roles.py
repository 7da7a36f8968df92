"""Back-office roles: what each membership role may do in the Django admin (DESIGN §3, §7).

The one place that says which Django permissions ``admin``, ``agent`` and ``viewer`` grant.
Two things read it:

- ``tenants.services.user_roles_sync`` puts a member in the permission groups named after
  its roles (the groups are made or corrected on the way, idempotently) and sets its
  ``is_staff`` flag: an active membership of an active tenant makes a user staff. The
  membership and tenant services call it, so nobody sets these flags by hand.
- ``tenants/admin_scoping.py`` asks ``role_allows`` in the tenant of each object: Django's
  permissions (the union of a user's groups) decide what the admin shows, and the role in
  the object's own tenant decides what may be done to that object.

``admin`` may do everything to the hub's models in its tenant; ``agent`` views, adds and
changes the support team's daily objects (customers, addresses, client-type assignment,
notes, store links of its stores, B2B accounts, contacts and orders) and deletes nothing;
``viewer`` only views them. Neither sees API keys, memberships, tenants, store memberships
or price lists. Which rows and objects each sees is the admin scoping's business (by
tenant, and by store for the agents' and viewers' store links).
"""

from __future__ import annotations

from tenants.models import Role

#: the apps whose models the hub's admin manages (a tenant admin holds all their permissions)
HUB_APPS = ("tenants", "customers", "stores", "pricelists", "b2b")

#: what a viewer sees (and an agent sees too): "app_label.model_name"
VIEWED = (
    "customers.customer",
    "customers.address",
    "customers.clienttype",
    "customers.duplicatepair",
    "stores.store",
    "stores.customerstore",
    "pricelists.product",
    "b2b.account",
    "b2b.contact",
    "b2b.salesorder",
    "b2b.orderline",
    "b2b.creditcheck",
)

#: what an agent adds and changes besides (never deletes)
WRITTEN = {
    "customers.customer": ("add", "change"),
    "customers.address": ("add", "change"),
    "customers.duplicatepair": ("change",),  # dismiss a pair
    "stores.customerstore": ("add", "change"),
    "b2b.account": ("add", "change"),
    "b2b.contact": ("add", "change"),
    "b2b.salesorder": ("add", "change"),
    "b2b.orderline": ("add",),
    # merges (customers/admin_merge.py): agents see them, merge ("add") and undo ("change");
    # viewers do not
    "customers.merge": ("view", "add", "change"),
}


def _perm(model: str, action: str) -> str:
    app_label, model_name = model.split(".")
    return f"{app_label}.{action}_{model_name}"


_VIEWER = frozenset(_perm(model, "view") for model in VIEWED)
_AGENT = _VIEWER | frozenset(
    _perm(model, action) for model, actions in WRITTEN.items() for action in actions
)
GRANTS: dict[str, frozenset[str]] = {Role.VIEWER: _VIEWER, Role.AGENT: _AGENT}


def role_allows(role: str | None, perm: str) -> bool:
    """Whether ``role`` grants the Django permission ``perm`` ("app_label.codename")."""
    if role == Role.ADMIN:
        return perm.partition(".")[0] in HUB_APPS
    return perm in GRANTS.get(role, ())


def group_permissions(role: str):
    """The ``Permission`` rows of ``role``'s group."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    perms = Permission.objects.filter(content_type__app_label__in=HUB_APPS)
    if role == Role.ADMIN:
        return perms
    wanted = Q(pk__in=[])
    for perm in GRANTS[role]:
        app_label, codename = perm.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    return perms.filter(wanted)
