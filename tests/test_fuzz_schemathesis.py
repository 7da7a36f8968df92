"""Schema fuzzing (issue 8, guarantee 2): Schemathesis 4 in-process against the project's own
OpenAPI document, for every operation of every dialect and of the auth endpoints.

- The document is the one the API serves (drf-spectacular's generator, as /api/schema/), and
  requests go through the WSGI application (config.wsgi) inside the test's transaction.
- Authenticated as the dialect expects: Bearer user token + ``x-tenant-id`` (data, b2b),
  Bearer tenant-admin token + ``x-store-id`` (store), bare API key (peppered, whose
  ``client_name`` is the tenant's slug), Bearer API key and no tenant header (hub, which
  takes the key's tenant). Path ids are, at random, real ids of a populated
  tenant (so the fuzzer gets past the 404s) or generated values.
- Fixed seed (``HUB_FUZZ_SEED``, default 20250101), ``HUB_FUZZ_EXAMPLES`` examples per operation
  (default 50, the CI setting), positive data (schema-valid inputs) then negative data
  (``HUB_FUZZ_NEGATIVE_EXAMPLES``, default 25: inputs that break the schema, which must be a
  4xx, never a 500).
- Checks: ``not_a_server_error``, ``status_code_conformance``, ``content_type_conformance``,
  ``response_schema_conformance``, ``response_headers_conformance``.

Checks left out, and why:

- ``negative_data_rejection``: the dialects deliberately accept some inputs their schema does
  not describe (unknown fields are ignored, as the original APIs do, e.g. peppered's Laravel
  validator and the store dialect's NestJS DTOs), so "must reject" would flag intended
  behaviour; the negative phase still runs under the other checks (no 5xx, documented status).
- ``positive_data_acceptance``: a schema-valid body can still break a business rule (a
  duplicate email, an unknown price list, an illegal order transition), which is a documented
  4xx, not a failure.
- ``ignored_auth``, ``use_after_free``, ``ensure_resource_availability``,
  ``missing_required_header``, ``unsupported_method``: stateful or credential-mutating checks;
  authentication, tenancy and methods are proved route by route by test_isolation_matrix.py
  (which also runs every method of every route).
- ``max_response_time``: timing on a shared 2-core CI machine is noise; query counts are
  bounded in each dialect's own tests.
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from decimal import Decimal

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tenants.services import user_token_issue
from tests.conftest import make_tenant_world
from tests.openapi import openapi
from tests.reliability_support import populate, record_figure

pytestmark = pytest.mark.django_db

SEED = int(os.environ.get("HUB_FUZZ_SEED", "20250101"))
EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "50"))
NEGATIVE_EXAMPLES = int(os.environ.get("HUB_FUZZ_NEGATIVE_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
#: operations for which negative data generation is impossible (nothing to negate)
ID_PARAMETERS = {
    "id",
    "customerId",
    "customer_id",
    "contact_id",
    "order_id",
    "addressId",
    "event_id",
    "endpoint_id",
    "delivery_id",
    "export_id",
    "pair_id",
}


def _schema():
    import config.wsgi

    schema = schemathesis.openapi.from_dict(copy.deepcopy(openapi()))
    schema.app = config.wsgi.application
    return schema


def operations() -> list[tuple[str, str]]:
    """(METHOD, path template) of every operation in the document."""
    out = []
    for path, items in openapi()["paths"].items():
        for method in ("get", "post", "put", "patch", "delete"):
            if method in items:
                out.append((method.upper(), path))
    return out


@pytest.fixture
def in_process():
    """Call the WSGI app inside the test's transaction: Django must not close the connection
    at the end of each request (its test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(db):
    world = make_tenant_world("acme")
    refs = populate(world, "fuzz")
    agent = user_token_issue(user=world.agent)[1]
    admin = user_token_issue(user=world.admin)[1]
    return world, refs, agent, admin


def dialect_context(path: str, world, agent: str, admin: str) -> tuple[dict, dict]:
    """(headers, fixed path parameters) for an operation's dialect."""
    if path.startswith("/api/data/customer"):
        return {"Authorization": f"Bearer {agent}", "x-tenant-id": world.tenant.slug}, {}
    if path.startswith("/customers"):
        return {"Authorization": f"Bearer {admin}", "x-store-id": str(world.store.id)}, {}
    if path.startswith("/v1/"):
        return {"Authorization": world.api_key.secret}, {"client_name": world.tenant.slug}
    if path.startswith(("/api/customers", "/api/orders")):
        return {"Authorization": f"Bearer {agent}", "x-tenant-id": world.tenant.slug}, {}
    if path.startswith("/api/hub/webhook-endpoints") or path.endswith(("/resend", "/erase")):
        # tenant admins only: a user token of the tenant's admin (an erasure then erases the
        # populated customer for the rest of that operation's examples, which get 404s: each
        # operation has its own world, rolled back after it)
        return {"Authorization": f"Bearer {admin}"}, {}
    if path.startswith("/api/hub/"):
        # a tenant API key as Bearer: the hub takes the key's tenant without x-tenant-id
        return {"Authorization": f"Bearer {world.api_key.secret}"}, {}
    return {"Authorization": f"Bearer {agent}"}, {}


def real_ids(path: str, refs) -> dict[str, str]:
    return {
        "id": refs.customer_uuid,
        "customer_id": refs.customer_uuid,
        "customerId": str(refs.customer_pk) if path.startswith("/v1/") else refs.customer_uuid,
        "contact_id": refs.contact_id,
        "order_id": refs.order_id,
        "addressId": refs.address_key,
        "event_id": refs.event_id,
        "endpoint_id": refs.endpoint_id,
        "delivery_id": refs.delivery_id,
        "export_id": refs.export_id,
        "merge_id": refs.merge_id,
        "pair_id": refs.pair_id,
    }


def json_numbers(value):
    """``value`` with the ``Decimal`` numbers schemathesis may generate for a ``number``
    (negative examples) as the JSON numbers they stand for: the WSGI transport encodes
    bodies with the standard ``json`` module, which refuses ``Decimal``."""
    if isinstance(value, Decimal):
        integral = value.is_finite() and value == value.to_integral_value()
        return int(value) if integral else float(value)
    if isinstance(value, dict):
        return {k: json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_numbers(v) for v in value]
    return value


def describe(case, response) -> str:
    return (
        f"{case.method} {case.formatted_path} query={case.query!r} "
        f"headers={ {k: v for k, v in (case.headers or {}).items() if k.lower() != 'authorization'} } "
        f"body={str(case.body)[:300]!r} -> {response.status_code if response is not None else '-'} "
        f"{(response.content[:300] if response is not None else b'')!r}"
    )


@pytest.mark.parametrize(("method", "path"), operations(), ids=lambda v: v)
def test_fuzz_operation(method, path, fuzz_world, in_process):
    world, refs, agent, admin = fuzz_world
    operation = _schema()[path][method]
    headers, fixed = dialect_context(path, world, agent, admin)
    ids = real_ids(path, refs)
    id_names = [
        p["name"]
        for p in openapi()["paths"][path][method.lower()].get("parameters", [])
        if p["in"] == "path" and p["name"] in ID_PARAMETERS
    ]
    failures: dict[str, str] = {}
    counter = {"examples": 0}
    statuses: Counter = Counter()

    def run_mode(mode: GenerationMode, examples: int) -> None:
        try:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)
        except Exception as exc:
            if mode is GenerationMode.NEGATIVE:
                return
            raise AssertionError(f"cannot generate data for {method} {path}: {exc}") from exc

        @hypothesis.seed(SEED)
        @hypothesis.settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=False,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=strategy, data=st.data())
        def run(case, data):
            for name in id_names:
                if data.draw(st.booleans(), label=f"real {name}"):
                    case.path_parameters[name] = ids[name]
            counter["examples"] += 1
            case.body = json_numbers(case.body)
            response = None
            try:
                response = case.call(headers=headers)
                statuses[response.status_code] += 1
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (Exception, BaseExceptionGroup) as exc:
                key = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                failures.setdefault(key, f"{exc}\n    reproduce: {describe(case, response)}")

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            if mode is not GenerationMode.NEGATIVE:
                raise
            # An operation without parameters, body or credentials (GET /api/auth/csrf)
            # has nothing to send wrong.

    run_mode(GenerationMode.POSITIVE, EXAMPLES)
    if NEGATIVE_EXAMPLES:
        run_mode(GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)
    record_figure(
        "fuzz",
        operation=f"{method} {path}",
        examples=counter["examples"],
        statuses={str(k): v for k, v in sorted(statuses.items())},
        failures=len(failures),
    )
    assert not failures, f"{method} {path}: {len(failures)} distinct failure(s):\n" + "\n".join(
        f"- {detail}" for detail in failures.values()
    )
