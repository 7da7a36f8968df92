"""The OpenAPI document says what the dialects really do (issue 17 items 8 and 9): header
types a generated client can send, alternative credentials, error bodies, the real bounds
of parameters, and the data dialect's values exactly as its seed knows them."""

from __future__ import annotations

import re

import pytest

from b2b.currencies import ISO_4217_CODES
from tests.openapi import openapi

METHODS = ("get", "post", "put", "patch", "delete")


def operations(prefix: str):
    for path, items in openapi()["paths"].items():
        if re.match(prefix, path):
            for method in METHODS:
                if method in items:
                    yield path, method, items[method]


def parameter(operation: dict, name: str) -> dict:
    found = [p for p in operation.get("parameters", []) if p["name"] == name]
    assert len(found) == 1, (name, [p["name"] for p in operation.get("parameters", [])])
    return found[0]


def resolve(schema: dict) -> dict:
    while "$ref" in schema or ("allOf" in schema and len(schema["allOf"]) == 1):
        ref = schema.get("$ref") or schema["allOf"][0]["$ref"]
        schema = openapi()["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def test_x_store_id_is_a_string_with_a_uuid_pattern():
    store = list(operations(r"^/customers"))
    assert store
    for path, method, operation in store:
        schema = parameter(operation, "x-store-id")["schema"]
        assert schema["type"] == "string" and "format" not in schema, (path, method)
        assert re.fullmatch(schema["pattern"], "0190a6e4-6b8e-7c41-9d2a-5f3e8b1c2d4e")
        assert not re.fullmatch(schema["pattern"], "not-a-uuid")


def test_every_b2b_operation_documents_the_optional_tenant_header():
    b2b = list(operations(r"^/api/(customers|orders)"))
    assert len(b2b) >= 12
    for path, method, operation in b2b:
        header = parameter(operation, "x-tenant-id")
        assert header["in"] == "header" and not header.get("required", False), (path, method)
        assert "tenants/access.py" in header["description"]


def test_peppered_credentials_are_alternatives():
    for path, method, operation in operations(r"^/v1/"):
        assert {"apiKeyHeader": []} in operation["security"], (path, method)
        assert {"basicAuth": []} in operation["security"], (path, method)
        assert all(len(requirement) == 1 for requirement in operation["security"])


def test_peppered_404_bodies_are_documented():
    with_ids = [(p, m, o) for p, m, o in operations(r"^/v1/") if "{customerId}" in p]
    assert with_ids
    for path, method, operation in with_ids:
        content = operation["responses"]["404"]["content"]["application/json"]
        assert resolve(content["schema"])["required"] == ["message", "requestId"], (path, method)


def test_data_list_parameters_have_their_bounds():
    operation = openapi()["paths"]["/api/data/customer"]["get"]
    assert parameter(operation, "limit")["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 1000,
    }
    assert parameter(operation, "cursor")["schema"]["maxLength"] == 200


@pytest.mark.parametrize("name", ["date_from", "date_to"])
def test_b2b_order_date_bounds_have_a_pattern(name):
    operation = openapi()["paths"]["/api/customers/{customer_id}/orders"]["get"]
    pattern = parameter(operation, name)["schema"]["pattern"]
    for good in ("2024-01-15", "2024-01-15T10:30:00Z", "2024-01-15T10:30:00.5+01:00"):
        assert re.fullmatch(pattern, good), good
    for bad in ("yesterday", "15-01-2024", "2024-1-5"):
        assert not re.fullmatch(pattern, bad), bad


def test_currencies_are_iso_4217_codes():
    schemas = openapi()["components"]["schemas"]
    for component in ("B2BCustomerInputRequest", "B2BCustomer", "B2BOrder"):
        currency = resolve(schemas[component]["properties"]["currency"])
        assert set(currency["enum"]) == ISO_4217_CODES, component


def test_data_dialect_declares_the_seeds_sources_and_null_discord_fields():
    record = openapi()["components"]["schemas"]["DataCustomer"]["properties"]
    assert set(resolve(record["source"])["enum"]) == {"DISCORD", "EMAIL", "MANUAL"}
    for name in ("discordId", "discordUsername", "discordDisplayName"):
        assert "null" in record[name]["type"], name


def test_data_address_removal_documents_the_seeds_400():
    responses = openapi()["paths"]["/api/data/customer/{id}/address/{addressId}"]["delete"][
        "responses"
    ]
    assert "no such address" in responses["400"]["description"]
