"""No personal data in the logs (issue 23 item 1): a run of API calls across the four
dialects and the hub's own (creates and updates with the demo's personal values, searches
and lookups by email, logins with wrong passwords up to the lockout, the admin login,
validation errors, unknown records named by an email), with every log record captured at
DEBUG and written out as production writes it (JSON) and as ``make run`` does (plain). None
of the personal values sent or stored, the passwords, the tokens or the API keys may appear.
"""

from __future__ import annotations

import io
import json
import logging
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from b2b.models import Contact
from customers.models import Address, Customer
from stores.management.commands.demo import DEMO_PASSWORD
from tenants.context import RequestIdLogFilter
from tenants.logs import JsonFormatter
from tests.conftest import HubClient

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "Wr0ng-Guess-Pa55word"
#: values shorter than this are not personal on their own ("NL", "CA", "M")
MIN_LENGTH = 5

SENT = {
    "data": {
        "discordId": "738291046",
        "discordUsername": "ada_gamer_1815",
        "discordDisplayName": "Ada Byron-King",
        "email": "ada.byron@private-mail.example",
        "phone": "06 87654321",
    },
    "data_address": {
        "addressId": "home",
        "name": "Ada Byron-King",
        "line1": "Marylebone Road 12",
        "city": "Marylebone",
        "state": "NH",
        "postalCode": "1234 AB",
        "country": "NL",
        "phone": "+31 20 765 9988",
    },
    "data_patch": {"email": "countess.lovelace@private-mail.example"},
    "store": {"localName": "Charles Babbage Instruments"},
    "peppered": {
        "email": "jan.vanderberg@prive.example.nl",
        "customerSalutation": "M",
        "customerFirstName": "Janneke",
        "customerPreposition": "van der",
        "customerLastName": "Bergsma",
        "customerAddress": "Prinsengracht 263",
        "customerHouseNr": "263",
        "customerZip": "1016 GV",
        "customerCity": "Amsterdam",
        "customerCountry": "NL",
        "customerPhone": "0687651234",
        "customerCredit": "25.50",
    },
    "b2b": {
        "name": "Hopper Compilers Ltd",
        "email": "grace.hopper@hopper-compilers.example",
        "phone": "+1-555-0177",
        "tax_id": "98-7654321",
        "billing_address": {
            "line1": "1 Harvard Mark Way",
            "city": "Cambridge",
            "state": "MA",
            "postal_code": "02138",
            "country": "US",
        },
        "contacts": [
            {
                "name": "Howard Aiken",
                "email": "howard.aiken@hopper-compilers.example",
                "phone": "+1-555-0178",
                "is_primary": True,
            }
        ],
    },
}


@pytest.fixture
def demo():
    out = StringIO()
    call_command("demo", "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def log_output():
    """Every record at DEBUG from here on, formatted both ways, into one string buffer."""
    buffer = io.StringIO()
    json_handler = logging.StreamHandler(buffer)
    json_handler.setFormatter(JsonFormatter())
    plain_handler = logging.StreamHandler(buffer)
    plain_handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    handlers = [json_handler, plain_handler]
    root = logging.getLogger()
    level = root.level
    for handler in handlers:
        handler.setLevel(logging.DEBUG)
        handler.addFilter(RequestIdLogFilter())
        root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.setLevel(level)
        for handler in handlers:
            root.removeHandler(handler)


def _client(credential: str, **headers) -> HubClient:
    client = HubClient(raise_request_exception=False)
    client.credentials(
        HTTP_AUTHORIZATION=credential, **{f"HTTP_{k}": v for k, v in headers.items()}
    )
    return client


def _personal_values_stored() -> set[str]:
    values: set[str] = set()
    for row in Customer.objects.values(
        "name",
        "local_name",
        "first_name",
        "last_name",
        "email",
        "phone",
        "discord_id",
        "discord_username",
        "discord_display_name",
    ):
        values.update(row.values())
    for row in Address.objects.values("name", "line1", "postal_code", "phone"):
        values.update(row.values())
    for row in Contact.objects.values("name", "email", "phone"):
        values.update(row.values())
    for row in get_user_model().objects.values("email"):
        values.update(row.values())
    return values


def _flatten(value) -> list[str]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _flatten(item)]
    if isinstance(value, list):
        return [v for item in value for v in _flatten(item)]
    return [str(value)]


def test_logs_hold_no_personal_data_tokens_keys_or_passwords(demo, log_output):
    acme = next(tenant for tenant in demo["tenants"] if tenant["slug"] == "acme")
    users = {user["role"]: user for user in acme["users"]}
    agent_token = users["agent"]["token"]
    store_id = acme["stores"][0]["id"]
    price_list_id = acme["stores"][0]["price_lists"][0]["id"]
    demo_email = "ada@acme.example.com"
    secrets = {DEMO_PASSWORD, WRONG_PASSWORD, acme["api_key"], agent_token}
    anonymous = Client(raise_request_exception=False)
    statuses = []

    def call(client, method, path, body=None, **extra):
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body)
        response = getattr(client, method)(path, body, content_type="application/json", **extra)
        statuses.append((method.upper(), path.split("?")[0][:40], response.status_code))
        return response

    # --- authentication: wrong passwords up to the lockout, the admin login, a fresh token
    for _ in range(6):
        call(
            anonymous,
            "post",
            "/api/auth/token",
            {"username": users["agent"]["username"], "password": WRONG_PASSWORD},
        )
    call(
        anonymous,
        "post",
        "/api/auth/login",
        {"username": "someone@private-mail.example", "password": WRONG_PASSWORD},
    )
    anonymous.post(
        "/admin/login/", {"username": users["viewer"]["username"], "password": WRONG_PASSWORD}
    )
    fresh = call(
        anonymous,
        "post",
        "/api/auth/token",
        {"username": users["admin"]["username"], "password": DEMO_PASSWORD},
    )
    assert fresh.status_code in (200, 201), fresh.content
    secrets.add(fresh.json()["token"])
    call(_client("Bearer chk_not-a-real-key-0123456789"), "get", "/api/auth/me")

    # --- data
    data = _client(f"Bearer {agent_token}", X_TENANT_ID="acme")
    created = call(data, "post", "/api/data/customer", SENT["data"])
    assert created.status_code == 201, created.content
    customer_id = created.json()["id"]
    call(data, "post", f"/api/data/customer/{customer_id}/address", SENT["data_address"])
    call(data, "patch", f"/api/data/customer/{customer_id}", SENT["data_patch"])
    call(data, "get", f"/api/data/customer/{SENT['data']['discordId']}")
    call(data, "get", "/api/data/customer/nobody.at.all@private-mail.example")
    call(data, "post", "/api/data/customer", {**SENT["data"], "email": "not-an-email@"})

    # --- store
    store = _client(f"Bearer {agent_token}", X_STORE_ID=store_id)
    call(store, "post", "/customers", {**SENT["store"], "defaultPriceListId": price_list_id})
    call(store, "get", "/customers?search=Babbage&limit=5")

    # --- peppered (the API key as the bare Authorization value)
    pep = _client(acme["api_key"])
    made = call(pep, "post", "/v1/acme/peppered/customer", SENT["peppered"])
    assert made.status_code == 201, made.content
    pep_id = made.json()["customerId"]
    call(
        pep,
        "put",
        f"/v1/acme/peppered/customer/{pep_id}",
        {**SENT["peppered"], "customerFirstName": "Jannetje"},
    )
    call(pep, "post", "/v1/acme/peppered/customer", SENT["peppered"])  # the email is taken
    call(pep, "post", "/v1/acme/peppered/customer/findByEmail", {"email": demo_email})
    call(
        pep,
        "post",
        "/v1/acme/peppered/customer/findByEmail",
        {"email": "ghost@private-mail.example"},
    )

    # --- b2b, with an Idempotency-Key replay
    b2b = _client(f"Bearer {agent_token}")
    account = call(b2b, "post", "/api/customers", SENT["b2b"], HTTP_IDEMPOTENCY_KEY="privacy-1")
    assert account.status_code == 201, account.content
    call(b2b, "post", "/api/customers", SENT["b2b"], HTTP_IDEMPOTENCY_KEY="privacy-1")
    b2b_id = account.json()["data"]["id"]
    call(
        b2b, "put", f"/api/customers/{b2b_id}", {**SENT["b2b"], "name": "Hopper & Aiken Compilers"}
    )
    call(b2b, "get", "/api/customers?search=grace.hopper")
    call(b2b, "post", "/api/customers", {**SENT["b2b"], "email": "grace@"})
    call(b2b, "post", "/api/customers", b'{"name": "Broken Json Person"', HTTP_IDEMPOTENCY_KEY="p2")

    # --- the hub's own API
    hub = _client(f"Bearer {agent_token}")
    call(hub, "get", f"/api/hub/customers/{customer_id}/history")

    assert {status for *_, status in statuses} >= {200, 201, 400, 401, 404, 429}, statuses

    output = log_output.getvalue()
    assert '"logger": "hub.request"' in output  # the calls were logged, as JSON
    assert "Login locked" in output  # and the lockout, by address
    personal = {
        value
        for value in (*_flatten(SENT), *_personal_values_stored(), "Broken Json Person")
        # digits alone are personal from 8 on (a Discord id, a phone), not a credit or a zip
        if len(value) >= MIN_LENGTH and not (value.replace(".", "").isdigit() and len(value) < 8)
    }
    personal |= {users[role]["username"] for role in users} | {"someone@private-mail.example"}
    personal |= {"ghost@private-mail.example", "nobody.at.all@private-mail.example", demo_email}
    personal |= {"Babbage", "grace.hopper"}  # the searches' terms
    assert "Ada Byron-King" in personal and "ada@acme.example.com" in personal
    found = sorted(value for value in personal | secrets if value in output)
    assert found == [], found
