"""Request bodies the JSON decoder refuses (tenants/api/parsers.py): a 400 in the dialect's own
format on every write of every dialect and on the auth endpoints, with and without
``Idempotency-Key``, never a 500 (issue 17, item 4)."""

from __future__ import annotations

import json

import pytest

from customers.models import Customer
from tenants.api.dialect import DialectViewMixin, dialect_for_path
from tenants.api.parsers import MAX_DEPTH, JSONParser, too_deep
from tenants.models import IdempotencyRecord
from tenants.services import user_token_issue
from tests.conftest import HubClient, _meta, json_of
from tests.factories import CustomerFactory
from tests.reliability_support import populate, request_id_in, view_class_of, walk_patterns
from tests.test_isolation_matrix import body, fill, matrix_routes

pytestmark = pytest.mark.django_db

DEEP = b"[" * 1000  # 1 KB: Python's json raised RecursionError on it
#: bodies every write refuses with a 400 (the view never runs a service)
BAD_BODIES = {
    "1000 nested arrays": DEEP,
    "nested arrays and objects, closed": b'{"a":' * 40 + b"[" * 40 + b"1" + b"]" * 40 + b"}" * 40,
    "deep inside a valid-looking object": b'{"name": "x", "tags": '
    + b"[" * 200
    + b"]" * 200
    + b"}",
    "invalid UTF-8": b'{"name": "\xff\xfe"}',
    "raw NUL byte in a string": b'{"name": "a\x00b"}',
    "NaN": b'{"name": NaN}',
    "an integer of 5000 digits": b'{"name": ' + b"9" * 5000 + b"}",
    "Infinity": b'{"name": Infinity}',
}


def _writes(refs) -> list[tuple[str, str, str, str]]:
    """(dialect, method, route, path) for every write that reads a JSON body."""
    out = []
    for route, dialect, methods in matrix_routes():
        for method in methods:
            if method == "get" or body(route, method, refs) is None:
                continue
            out.append((dialect, method, route, fill(route, dialect, refs, refs.slug)))
    return out


def _client(world, dialect: str) -> HubClient:
    headers = {
        "data": {"x-tenant-id": world.tenant.slug},
        "store": {"x-store-id": str(world.store.id)},
        "b2b": {"x-tenant-id": world.tenant.slug},
    }.get(dialect, {})
    client = HubClient()
    client.raise_request_exception = False
    if dialect != "auth":  # the auth endpoints that read a body are public
        client.credentials(
            HTTP_AUTHORIZATION=f"Bearer {user_token_issue(user=world.admin)[1]}", **_meta(headers)
        )
    return client


def _rows() -> tuple[int, int]:
    return Customer.objects.count(), sum(1 for _ in Customer.history.all())


@pytest.mark.parametrize("with_key", [False, True], ids=["no key", "Idempotency-Key"])
@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_every_write_refuses_an_undecodable_body_with_a_400_in_its_format(world, name, with_key):
    refs = populate(world, "victim")
    writes = _writes(refs)
    assert {d for d, *_ in writes} == {"data", "store", "peppered", "b2b", "auth", "hub"}
    before = _rows()
    problems = []
    for index, (dialect, method, route, path) in enumerate(writes):
        extra = {"HTTP_IDEMPOTENCY_KEY": f"deep-{index}"} if with_key else {}
        response = getattr(_client(world, dialect), method)(
            path, data=BAD_BODIES[name], content_type="application/json", **extra
        )
        where = f"{method.upper()} {route}"
        if response.status_code != 400:
            problems.append(f"{where}: {response.status_code} {response.content[:200]!r}")
            continue
        payload = json_of(response)
        if request_id_in(dialect, payload) != response["X-Request-ID"]:
            problems.append(f"{where}: not the dialect's error format: {payload}")
        if "JSON" not in json.dumps(payload):
            problems.append(f"{where}: the message does not say the JSON is malformed: {payload}")
    assert not problems, "\n".join(problems)
    assert _rows() == before


def test_a_refused_body_with_a_key_is_answered_again_the_same_way(world):
    client = _client(world, "data")
    first = client.post(
        "/api/data/customer", data=DEEP, content_type="application/json", HTTP_IDEMPOTENCY_KEY="d"
    )
    again = client.post(
        "/api/data/customer", data=DEEP, content_type="application/json", HTTP_IDEMPOTENCY_KEY="d"
    )
    assert first.status_code == again.status_code == 400
    assert again.content == first.content
    assert IdempotencyRecord.objects.get(key="d").status_code == 400


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("[" * MAX_DEPTH + "]" * MAX_DEPTH, False),
        ("[" * (MAX_DEPTH + 1), True),
        ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), True),
        ("[" + "[]," * 500 + "[]]", False),  # many brackets, two levels
        ('["' + "[" * 500 + '"]', False),  # brackets inside a string are text
        ('["\\"' + "[" * 500 + '"]', False),  # an escaped quote does not end the string
        ('["\\\\", ' + "[" * 500 + "]", True),  # an escaped backslash does
    ],
    ids=[
        "at the limit",
        "one deeper",
        "objects",
        "wide",
        "in a string",
        "escaped quote",
        "escaped backslash",
    ],
)
def test_depth_counts_structure_not_text(text, refused):
    assert too_deep(text) is refused


def test_a_body_nested_exactly_to_the_limit_is_accepted(world):
    # clienttypes is a list of strings: one level deeper is a field error, not a parse error
    client = _client(world, "data")
    deep_ok = b'{"notes": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}"
    too_deep = b'{"notes": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}"
    customer = CustomerFactory(tenant=world.tenant)
    path = f"/api/data/customer/{customer.uuid}"
    accepted = client.patch(path, data=deep_ok, content_type="application/json")
    refused = client.patch(path, data=too_deep, content_type="application/json")
    assert accepted.status_code == 400 and "notes" in json_of(accepted).get("errors", {})
    assert refused.status_code == 400 and "nested deeper" in json_of(refused)["message"]


def test_every_dialect_view_uses_the_shared_edge():
    """The depth-limited parser, and DialectViewMixin (its errors, and the stored answers of
    Idempotency-Key given only after its authentication: tenants/idempotency.py)."""
    views = []
    for route, pattern in walk_patterns():
        view_class = view_class_of(pattern.callback)
        if view_class is None or dialect_for_path("/" + route.split("<")[0]) is None:
            continue
        views.append(view_class)
        assert issubclass(view_class, DialectViewMixin), route
        for parser in view_class().get_parsers():
            assert isinstance(parser, JSONParser), f"{route}: {type(parser).__name__}"
    assert len(views) >= 20
