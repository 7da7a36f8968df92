"""Errors: an unexpected exception is logged with the request id and answered with a generic
500 in the dialect's own format, with no stack trace and no SQL (issue 8, guarantee 6).

Every 4xx body naming the request id is checked route by route in test_isolation_matrix.py.
"""

import json
import logging
from unittest import mock

import pytest
from django.db import OperationalError
from django.urls import resolve

from config.middleware import RequestIdLogFilter
from tests.conftest import api_key_client, bearer_client, json_of
from tests.factories import CustomerFactory
from tests.reliability_support import request_id_in, route_exists, route_handlers

pytestmark = pytest.mark.django_db

SECRET = "SELECT password FROM auth_user WHERE id = 1 -- db01.internal:5432"


def _requests(world):
    slug = world.tenant.slug
    return {
        "data": (bearer_client(world.agent, **{"x-tenant-id": slug}), "get", "/api/data/customer"),
        "store": (
            bearer_client(world.agent, **{"x-store-id": str(world.store.id)}),
            "get",
            "/customers",
        ),
        "peppered": (
            api_key_client(world.api_key, "bare"),
            "get",
            f"/v1/{slug}/peppered/export/clienttypes",
        ),
        "b2b": (bearer_client(world.agent), "get", "/api/customers"),
        "auth": (bearer_client(world.agent), "get", "/api/auth/me"),
        "hub": (
            bearer_client(world.agent),
            "get",
            f"/api/hub/customers/{CustomerFactory(tenant=world.tenant).uuid}/history",
        ),
    }


@pytest.mark.parametrize("dialect", ["data", "store", "peppered", "b2b", "auth", "hub"])
def test_unexpected_exception_is_a_generic_500_in_the_dialect_format(world, caplog, dialect):
    client, method, path = _requests(world)[dialect]
    if not route_exists(path, method):
        pytest.skip(f"{path} does not exist yet")
    client.raise_request_exception = False
    view_class, handler = route_handlers(resolve(path).func)[method]
    caplog.handler.addFilter(RequestIdLogFilter())
    with (
        caplog.at_level(logging.ERROR),
        mock.patch.object(view_class, handler, side_effect=OperationalError(SECRET)),
    ):
        response = getattr(client, method)(path)
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    raw = response.content.decode()
    # "db01.internal", not "db01": the body's random hex request id may contain "db01"
    for leak in ("SELECT", "auth_user", "db01.internal", "Traceback", 'File "', "OperationalError"):
        assert leak not in raw, leak
    body = json_of(response)
    assert request_id_in(dialect, body) == response["X-Request-ID"]
    # Logged once, with the exception and the request id.
    records = [r for r in caplog.records if r.exc_info and SECRET in str(r.exc_info[1])]
    assert records, "the exception was not logged"
    assert records[0].request_id == response["X-Request-ID"]


def test_failure_in_the_idempotency_layer_is_a_generic_500_in_the_dialect_format(world, caplog):
    # The Idempotency-Key bookkeeping runs in a middleware, before the view: a database
    # failure there is answered in the dialect's format too, and logged with the request id.
    client = bearer_client(world.agent, **{"x-tenant-id": "acme"})
    client.raise_request_exception = False
    caplog.handler.addFilter(RequestIdLogFilter())
    with (
        caplog.at_level(logging.ERROR),
        mock.patch("tenants.idempotency._claim", side_effect=OperationalError(SECRET)),
    ):
        response = client.post(
            "/api/data/customer",
            {"discordId": "1", "discordUsername": "a", "discordDisplayName": "A"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="k",
        )
    assert response.status_code == 500
    assert SECRET not in response.content.decode()
    body = json.loads(response.content)
    assert body["requestId"] == response["X-Request-ID"]
    records = [r for r in caplog.records if r.exc_info and SECRET in str(r.exc_info[1])]
    assert records and records[0].request_id == response["X-Request-ID"]
