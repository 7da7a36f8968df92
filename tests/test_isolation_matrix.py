"""The isolation matrix (OWASP API1 BOLA, API5 BFLA, API3 mass assignment).

Generated from the URL configuration: every route under a dialect prefix is called with every
method its view allows, with the VICTIM tenant's real ids in the path (and, for routes
without ids, in the body), as

- anonymous: 401 with WWW-Authenticate (public routes excepted);
- a member (admin token, and API key) of the attacker tenant, in its own tenant context: 403
  or 404 for routes with the victim's ids; no victim data in any answer;
- the attacker with the victim's tenant reference (x-tenant-id, x-store-id, client name): 403;
- the victim's agent on a store it has no relation with: 403 (store routes);
- the victim's viewer (token and viewer API key) on every write: 403;

and the victim tenant's rows (every model, history included) are byte-for-byte the same
afterwards. Every error names the request id in its dialect's envelope. A new route fails
this test until the generator can reach it (a filler for each path parameter, a body for
each write).
"""

from __future__ import annotations

import json
import re
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.apps import apps
from django.core import serializers
from django.db import models
from django.utils import timezone

from tenants.api.dialect import dialect_for_path
from tenants.models import Tenant
from tenants.services import user_token_issue
from tests.conftest import HubClient, _meta
from tests.openapi import body_of, check_response
from tests.reliability_support import (
    Refs,
    populate,
    record_figure,
    request_id_in,
    route_handlers,
    walk_patterns,
)

pytestmark = pytest.mark.django_db

#: URL prefixes of the dialects and of the auth endpoints (route strings, no leading slash)
PREFIXES = {
    "api/data/customer": "data",
    "customers": "store",
    "v1/<str:client_name>/peppered/": "peppered",
    "api/customers": "b2b",
    "api/orders": "b2b",
    "api/auth/": "auth",
    "api/hub/": "hub",
}
METHODS = ("get", "post", "put", "patch", "delete")
MARKER = "victimmarker"
FAKE_UUID = "00000000-0000-4000-8000-000000000001"
#: POSTs that only read (the viewer may call them)
READ_ONLY = {
    ("v1/<str:client_name>/peppered/customer/findByEmail", "post"),
    ("v1/<str:client_name>/peppered/export/customers", "post"),
}
#: routes anyone may call (anonymous is not a 401)
PUBLIC = {("api/auth/login", "post"), ("api/auth/token", "post"), ("api/auth/csrf", "get")}
#: models that belong to no tenant, by design (RowCount: counts the database keeps per owner
#: id, tenants/counts.py; no endpoint reads or writes them, and they change only with the
#: counted rows, which the matrix dumps; LimitCounter: rate-limit counts and login locks under
#: hashed names, tenants/throttling.py)
#: WebhookFanout: the webhook fan-out's position in the outbox, one row for every tenant)
GLOBAL_MODELS = {
    "tenants.IdempotencyRecord",
    "tenants.RowCount",
    "tenants.LimitCounter",
    "tenants.WebhookFanout",
}
#: fields each route documents as writable although they are on the mass-assignment list
DOCUMENTED_WRITABLE = {
    ("api/customers", "post"): {"is_active"},
    ("api/customers/<str:customer_id>", "put"): {"is_active"},
    ("api/orders", "post"): {"customer_id"},
    # the data dialect's documented extension: PATCH isActive true restores a customer
    ("api/data/customer/<str:id>", "patch"): {"isActive"},
}


#: routes without ids, called by the attacker in its own tenant with the victim's ids in the
#: body: what must come back (the victim's object is unknown in the attacker's tenant)
OWN_CONTEXT_EXPECTED = {
    # find-or-create with the victim's discordId creates a customer in the attacker's tenant
    # (201, then 200 for the second attacker): never the victim's (its id is never answered)
    ("api/data/customer", "post"): {200, 201},
    ("api/data/customer", "get"): {200},
    # the victim's price list is unknown here
    ("customers", "post"): {404},
    # the victim's customer ids are not linked to the attacker's store: nothing removed
    ("customers/bulk", "delete"): {200},
    ("v1/<str:client_name>/peppered/customer/findByEmail", "post"): {404},
    ("api/orders", "post"): {400, 404},
    # the victim's customers are unknown in the attacker's tenant
    ("api/hub/merges", "post"): {404},
    ("api/hub/merges", "get"): {200},
}


def dialect_of(route: str) -> str | None:
    for prefix, dialect in PREFIXES.items():
        if route == prefix.rstrip("/") or route.startswith(prefix):
            if prefix == "customers" and not (
                route == "customers" or route.startswith("customers/")
            ):
                continue
            return dialect
    return None


def matrix_routes() -> list[tuple[str, str, list[str]]]:
    """(route, dialect, methods) for every route under a dialect prefix."""
    out = []
    for route, pattern in walk_patterns():
        dialect = dialect_of(route)
        if dialect is None:
            continue
        handlers = route_handlers(pattern.callback)
        methods = [m for m in METHODS if m in handlers]
        out.append((route, dialect, methods))
    return out


# --- path fillers and bodies -----------------------------------------------------------------


def fill(route: str, dialect: str, ids: Refs, slug: str) -> str:
    """The route with its parameters filled from ``ids`` (client_name from ``slug``)."""

    def value(match):
        name = match.group(1)
        if name == "client_name":
            return slug
        if name in ("id", "customer_id"):
            return ids.customer_uuid
        if name == "customerId":
            return str(ids.customer_pk) if dialect == "peppered" else ids.customer_uuid
        if name == "addressId":
            return ids.address_key
        if name == "contact_id":
            return ids.contact_id
        if name == "order_id":
            return ids.order_id
        if name == "event_id":
            return ids.event_id
        if name == "endpoint_id":
            return ids.endpoint_id
        if name == "delivery_id":
            return ids.delivery_id
        if name == "export_id":
            return ids.export_id
        if name == "merge_id":
            return ids.merge_id
        if name == "pair_id":
            return ids.pair_id
        raise LookupError(f"no filler for path parameter {name!r} of route {route!r}")

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, route)


def has_ids(route: str) -> bool:
    return bool(set(re.findall(r"<(?:\w+:)?(\w+)>", route)) - {"client_name"})


def body(route: str, method: str, ids: Refs):
    """A valid body for the write, referencing ``ids``' objects; None: no body."""
    address = {
        "addressId": "new-address",
        "name": "New",
        "line1": "1 New St",
        "city": "Town",
        "state": "ST",
        "postalCode": "1234",
        "country": "NL",
    }
    bodies = {
        ("api/data/customer", "post"): {
            "discordId": ids.discord_id,
            "discordUsername": "attacker",
            "discordDisplayName": "Attacker",
        },
        ("api/data/customer/<str:id>", "patch"): {"notes": "changed"},
        ("api/data/customer/<str:id>", "delete"): None,
        ("api/data/customer/<str:id>/address", "post"): address,
        ("api/data/customer/<str:id>/address/<path:addressId>", "delete"): None,
        ("api/data/customer/<str:id>/default-address", "patch"): {"addressId": ids.address_key},
        ("api/data/customer/<str:id>/link", "post"): {"userId": str(ids.user_id)},
        ("v1/<str:client_name>/peppered/customer", "post"): {
            "email": "new-person@example.com",
            "customerFirstName": "New",
        },
        ("v1/<str:client_name>/peppered/customer/findByEmail", "post"): {"email": ids.email},
        ("v1/<str:client_name>/peppered/customer/<str:customerId>", "put"): {
            "customerFirstName": "Changed"
        },
        ("v1/<str:client_name>/peppered/customer/<str:customerId>/clienttypes", "post"): {
            "clienttypes": []
        },
        ("v1/<str:client_name>/peppered/export/customers", "post"): {},
        ("customers", "post"): {"localName": "New shop", "defaultPriceListId": ids.price_list_id},
        ("customers/bulk", "delete"): {"ids": [ids.customer_uuid]},
        ("customers/<str:customerId>/price-list", "put"): {
            "priceListId": ids.price_list_id,
            "name": "Renamed",
        },
        ("customers/<str:customerId>/price-list", "delete"): None,
        ("api/customers", "post"): {"name": "New Corp", "email": "new-corp@example.com"},
        ("api/customers/<str:customer_id>", "put"): {"name": "Renamed Corp"},
        ("api/customers/<str:customer_id>/contacts", "post"): {
            "name": "New contact",
            "email": "new-contact@example.com",
            "is_primary": False,
        },
        ("api/customers/<str:customer_id>/contacts/<str:contact_id>", "put"): {"title": "Boss"},
        ("api/customers/<str:customer_id>/contacts/<str:contact_id>", "delete"): None,
        ("api/customers/<str:customer_id>/credit-check", "post"): None,
        ("api/orders", "post"): {
            "customer_id": ids.customer_uuid,
            "lines": [{"product_id": ids.product_id, "quantity": 1}],
        },
        ("api/orders/<str:order_id>", "patch"): {"status": "cancelled"},
        ("api/orders/<str:order_id>", "put"): {"status": "cancelled"},
        ("api/hub/webhook-endpoints", "post"): {"url": "https://attacker.example.com/in"},
        ("api/hub/webhook-endpoints/<str:endpoint_id>", "patch"): {"url": "https://x.example.com/"},
        ("api/hub/webhook-endpoints/<str:endpoint_id>", "delete"): None,
        ("api/hub/webhook-endpoints/<str:endpoint_id>/rotate-secret", "post"): {},
        ("api/hub/webhook-endpoints/<str:endpoint_id>/replay", "post"): {
            "since": "2000-01-01T00:00:00Z"
        },
        (
            "api/hub/webhook-endpoints/<str:endpoint_id>/deliveries/<str:delivery_id>/resend",
            "post",
        ): None,
        ("api/hub/events/<str:event_id>/resend", "post"): None,
        ("api/hub/customers/<str:customer_id>/export", "post"): None,
        ("api/hub/customers/<str:customer_id>/erase", "post"): {"confirm": True},
        # a preview: the same lookups and access as a merge, without moving the rows that the
        # mass-assignment check watches (a merge moves them by design: tests/test_merge*.py)
        ("api/hub/merges", "post"): {
            "survivor_id": ids.twin_uuid,
            "merged_id": ids.customer_uuid,
            "dry_run": True,
        },
        ("api/hub/merges/<str:merge_id>/undo", "post"): None,
        ("api/hub/duplicates/<str:pair_id>/dismiss", "post"): None,
        ("api/auth/login", "post"): {"username": "nobody", "password": "wrong"},
        ("api/auth/logout", "post"): None,
        ("api/auth/token", "post"): {"username": "nobody", "password": "wrong"},
        ("api/auth/token", "delete"): None,
    }
    if method == "get":
        return None
    if (route, method) not in bodies:
        raise LookupError(f"no body for {method.upper()} {route}: add one to test_isolation_matrix")
    return bodies[(route, method)]


# --- the victim's rows ------------------------------------------------------------------------


def tenant_path(model) -> str | None:
    """The ORM lookup from ``model`` to its Tenant (breadth-first over foreign keys)."""
    queue = deque([(model, "")])
    seen = {model}
    while queue:
        current, prefix = queue.popleft()
        for f in current._meta.get_fields():
            if not (f.many_to_one or f.one_to_one) or not f.concrete or f.related_model is None:
                continue
            lookup = f"{prefix}{f.name}"
            if f.related_model is Tenant:
                return lookup
            if f.related_model not in seen and f.related_model._meta.app_label != "auth":
                seen.add(f.related_model)
                queue.append((f.related_model, lookup + "__"))
    return None


PROJECT_APPS = ("tenants", "customers", "pricelists", "stores", "b2b")


def tenant_models() -> list[tuple[type[models.Model], str]]:
    out, unreachable = [], []
    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            if model is Tenant:
                out.append((model, "pk"))
                continue
            path = tenant_path(model)
            if path is None:
                unreachable.append(model._meta.label)
            else:
                out.append((model, path))
    assert set(unreachable) == GLOBAL_MODELS, (
        f"models without a way to their tenant: {sorted(set(unreachable) - GLOBAL_MODELS)}"
    )
    return out


def dump(tenant) -> str:
    """Every row of ``tenant`` in every model, serialized (byte-for-byte comparison)."""
    parts = []
    for model, path in tenant_models():
        value = tenant.pk if path == "pk" else tenant
        queryset = model._default_manager.filter(**{path: value}).order_by("pk")
        fields = None
        if model._meta.label == "tenants.ApiKey":  # using a key updates last_used_at
            fields = [f.name for f in model._meta.fields if f.name != "last_used_at"]
        parts.append(model._meta.label + serializers.serialize("json", queryset, fields=fields))
    return "\n".join(parts)


# --- the calls --------------------------------------------------------------------------------


@dataclass
class Caller:
    name: str
    authorization: str | None
    headers: dict  # per dialect: extra headers
    slug: str  # peppered client_name


def token(user) -> str:
    return user_token_issue(user=user)[1]


def call(caller: Caller, dialect: str, method: str, path: str, payload):
    client = HubClient(check_schema=False)
    client.raise_request_exception = False
    meta = _meta(caller.headers.get(dialect, {}))
    if caller.authorization:
        meta["HTTP_AUTHORIZATION"] = caller.authorization
    kwargs = {"format": "json"} if payload is not None else {}
    if payload is not None:
        kwargs["data"] = payload
    return getattr(client, method)(path, **kwargs, **meta)


class Findings:
    def __init__(self):
        self.problems: list[str] = []
        self.requests = 0

    def check(self, label, route, method, path, payload, response, expected, dialect):
        self.requests += 1
        where = f"{label}: {method.upper()} {path} body={json.dumps(payload)[:200]}"
        status = response.status_code
        raw = body_of(response)
        if status not in expected:
            self.problems.append(f"{where} -> {status}, expected {sorted(expected)}: {raw[:300]!r}")
        if status >= 400:
            try:
                rid = request_id_in(dialect, json.loads(raw))
            except ValueError:
                rid = None
            if rid != response.get("X-Request-ID"):
                self.problems.append(f"{where} -> {status} without the request id: {raw[:200]!r}")
        if status == 401 and not response.has_header("WWW-Authenticate"):
            self.problems.append(f"{where} -> 401 without WWW-Authenticate")
        try:
            check_response(response)
        except AssertionError as exc:
            self.problems.append(f"{where} -> schema: {exc}")


@pytest.fixture
def victim(world):
    return populate(world, MARKER)


@pytest.fixture
def attacker(other):
    return populate(other, "attacker")


def test_isolation_matrix(world, other, victim, attacker):
    routes = matrix_routes()
    assert {d for _, d, _ in routes} >= {"auth", "hub"}
    findings = Findings()
    before = dump(world.tenant)
    victim_store = str(world.store.id)
    victim_headers = {
        "data": {"x-tenant-id": world.tenant.slug},
        "store": {"x-store-id": victim_store},
        "b2b": {"x-tenant-id": world.tenant.slug},
        "hub": {"x-tenant-id": world.tenant.slug},
    }
    # (the hub API, like b2b, takes the credential's only tenant without the header)
    attacker_headers = {
        "data": {"x-tenant-id": other.tenant.slug},
        "store": {"x-store-id": str(other.store.id)},
    }
    # API keys as Bearer: every dialect takes that form (peppered's bare and Basic forms are
    # covered by its own tests).
    attacker_token, attacker_key = token(other.admin), f"Bearer {other.api_key.secret}"
    attackers_own = [
        Caller(
            "attacker admin (own tenant)",
            f"Bearer {attacker_token}",
            attacker_headers,
            other.tenant.slug,
        ),
        Caller("attacker API key (own tenant)", attacker_key, attacker_headers, other.tenant.slug),
    ]
    attackers_victim_ctx = [
        Caller(
            "attacker admin (victim's tenant)",
            f"Bearer {attacker_token}",
            victim_headers,
            world.tenant.slug,
        ),
        Caller(
            "attacker API key (victim's tenant)", attacker_key, victim_headers, world.tenant.slug
        ),
    ]
    anonymous = Caller("anonymous", None, victim_headers, world.tenant.slug)
    stranger_agent = Caller(
        "agent without the store relation",
        f"Bearer {token(world.agent)}",
        {"store": {"x-store-id": str(world.store2.id)}},
        world.tenant.slug,
    )
    viewers = [
        Caller("viewer", f"Bearer {token(world.viewer)}", victim_headers, world.tenant.slug),
        Caller(
            "viewer API key", f"Bearer {world.viewer_key.secret}", victim_headers, world.tenant.slug
        ),
    ]
    covered = []
    for route, dialect, methods in routes:
        for method in methods:
            covered.append((route, method))
            payload = body(route, method, victim)
            victim_path = fill(route, dialect, victim, world.tenant.slug)
            if dialect_for_path(victim_path) is None:
                findings.problems.append(f"{route}: no dialect answers {victim_path}")
            # 1. anonymous
            expected = {200, 201, 400, 401, 429} if (route, method) in PUBLIC else {401}
            response = call(anonymous, dialect, method, victim_path, payload)
            findings.check(
                anonymous.name, route, method, victim_path, payload, response, expected, dialect
            )
            if dialect == "auth":
                continue
            # 2. another tenant's member, in its own tenant, with the victim's ids
            own_path = fill(route, dialect, victim, other.tenant.slug)
            for caller in attackers_own:
                response = call(caller, dialect, method, own_path, payload)
                expected = (
                    {403, 404}
                    if has_ids(route)
                    else OWN_CONTEXT_EXPECTED.get((route, method), {200, 201, 400, 403, 404, 422})
                )
                findings.check(
                    caller.name, route, method, own_path, payload, response, expected, dialect
                )
                answer = body_of(response).decode(errors="replace")
                if (
                    (route, method) == ("customers/bulk", "delete")
                    and response.status_code == 200
                    and json.loads(answer)["deletedCount"] != 0
                ):
                    findings.problems.append(f"{caller.name}: bulk removal removed victim links")
                if not has_ids(route) and victim.customer_uuid in answer:
                    findings.problems.append(
                        f"{caller.name}: {method.upper()} {own_path} -> the victim's id answered"
                    )
                if MARKER in body_of(response).decode(errors="replace"):
                    findings.problems.append(
                        f"{caller.name}: {method.upper()} {own_path} -> victim data in the answer"
                    )
            # 3. the attacker naming the victim's tenant or store
            for caller in attackers_victim_ctx:
                response = call(caller, dialect, method, victim_path, payload)
                findings.check(
                    caller.name, route, method, victim_path, payload, response, {403}, dialect
                )
            # 4. an agent of the victim tenant on a store it has no relation with
            if dialect == "store":
                response = call(stranger_agent, dialect, method, victim_path, payload)
                findings.check(
                    stranger_agent.name,
                    route,
                    method,
                    victim_path,
                    payload,
                    response,
                    {403},
                    dialect,
                )
            # 5. the victim's viewers on every write
            if method != "get" and (route, method) not in READ_ONLY:
                for caller in viewers:
                    response = call(caller, dialect, method, victim_path, payload)
                    findings.check(
                        caller.name, route, method, victim_path, payload, response, {403}, dialect
                    )
    after = dump(world.tenant)
    assert findings.requests > 0
    record_figure(
        "matrix",
        routes=len(routes),
        operations=len(covered),
        requests=findings.requests,
        problems=len(findings.problems),
        dialects=sorted({d for _, d, _ in routes}),
    )
    problems = list(findings.problems)
    if after != before:
        problems.append("the victim tenant's rows changed")
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


def test_every_route_is_reachable_by_the_generator(world):
    refs = populate(world, MARKER)
    routes = matrix_routes()
    dialects = {d for _, d, _ in routes}
    assert {"auth", "hub"} <= dialects
    for route, dialect, methods in routes:
        assert methods, f"{route}: no HTTP method handler found"
        fill(route, dialect, refs, refs.slug)  # LookupError for an unknown parameter
        for method in methods:
            body(route, method, refs)  # LookupError for a write without a body


def test_every_tenant_model_is_dumped(world):
    models_ = tenant_models()
    labels = {m._meta.label for m, _ in models_}
    assert {"customers.Customer", "customers.Address", "stores.CustomerStore"} <= labels
    assert any(label.startswith("customers.Historical") for label in labels)


# --- mass assignment --------------------------------------------------------------------------

MASS_FIELDS = {
    "id": FAKE_UUID,
    "uuid": FAKE_UUID,
    "tenant": "globex",
    "tenantId": None,  # filled with the other tenant's id
    "tenant_id": None,
    "storeId": None,
    "store_id": None,
    "customerId": None,
    "customer_id": None,
    "createdAt": "2001-01-01T00:00:00Z",
    "created_at": "2001-01-01T00:00:00Z",
    "updatedAt": "2001-01-01T00:00:00Z",
    "updated_at": "2001-01-01T00:00:00Z",
    "lastChanged": "2001-01-01T00:00:00Z",
    "isActive": False,
    "is_active": False,
    "unknownField": "surprise",
}
PROTECTED = ("tenant_id", "created_at", "uuid", "customer_id", "store_id", "order_id", "is_active")
WATCHED = (
    "customers.Customer",
    "customers.Address",
    "stores.CustomerStore",
    "b2b.Account",
    "b2b.Contact",
    "b2b.SalesOrder",
    "b2b.OrderLine",
    "b2b.CreditCheck",
)


def protected_state() -> dict:
    state = {}
    for label in WATCHED:
        model = apps.get_model(label)
        names = [f.attname for f in model._meta.concrete_fields if f.attname in PROTECTED]
        for row in model._default_manager.values("pk", *names):
            state[(label, row.pop("pk"))] = row
    return state


def test_mass_assignment_never_changes_protected_fields(world, other):
    own = populate(world, "own")
    foreign = populate(other, "foreign")
    MASS_FIELDS.update(
        tenantId=str(other.tenant.id),
        tenant_id=str(other.tenant.id),
        storeId=str(other.store.id),
        store_id=str(other.store.id),
        customerId=foreign.customer_uuid,
        customer_id=foreign.customer_uuid,
    )
    client_for = {
        "data": {"x-tenant-id": world.tenant.slug},
        "store": {"x-store-id": str(world.store.id)},
        "b2b": {},
        "peppered": {},
    }
    admin = Caller("admin", f"Bearer {token(world.admin)}", client_for, world.tenant.slug)
    problems, writes = [], 0
    for route, dialect, methods in matrix_routes():
        if dialect == "auth":
            continue
        for method in methods:
            payload = body(route, method, own)
            if method == "get" or not isinstance(payload, dict) or (route, method) in READ_ONLY:
                continue
            writable = DOCUMENTED_WRITABLE.get((route, method), set())
            active_writable = bool(writable & {"isActive", "is_active"})
            extra = {k: v for k, v in MASS_FIELDS.items() if k not in payload and k not in writable}
            if dialect == "peppered":
                extra["customerId"] = 999_999_999
            sent = {**payload, **extra}
            path = fill(route, dialect, own, world.tenant.slug)
            before = protected_state()
            started = timezone.now() - timedelta(seconds=1)
            response = call(admin, dialect, method, path, sent)
            writes += 1
            where = f"{method.upper()} {path} {sorted(extra)}"
            if response.status_code >= 500:
                problems.append(f"{where} -> {response.status_code}")
                continue
            after = protected_state()
            for key, row in after.items():
                label = key[0]
                if key in before:
                    old = before[key]
                    for name, value in row.items():
                        if name == "is_active" and (method == "delete" or active_writable):
                            continue
                        if value != old.get(name):
                            problems.append(
                                f"{where} -> {label} {key[1]}.{name}: {old.get(name)} -> {value}"
                            )
                else:
                    if row.get("tenant_id") not in (None, world.tenant.id):
                        problems.append(f"{where} -> new {label} in another tenant")
                    if "created_at" in row and row["created_at"] < started:
                        problems.append(
                            f"{where} -> new {label} with created_at {row['created_at']}"
                        )
                    if str(row.get("uuid")) == FAKE_UUID or key[1] in (
                        FAKE_UUID,
                        uuid.UUID(FAKE_UUID),
                    ):
                        problems.append(f"{where} -> new {label} took the client's id")
                    if row.get("is_active") is False and not active_writable:
                        problems.append(f"{where} -> new {label} inactive")
                    if row.get("customer_id") is not None and label != "customers.Customer":
                        foreign_pk = foreign.customer_pk
                        if row["customer_id"] == foreign_pk:
                            problems.append(f"{where} -> new {label} attached to another tenant")
    assert writes > 0
    record_figure("mass_assignment", writes=writes, fields=len(MASS_FIELDS), problems=len(problems))
    assert not problems, "\n".join(problems)
