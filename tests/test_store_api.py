"""The store dialect (seed 001) at /customers: every endpoint, rule and error."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from customers.models import Customer, Source
from customers.selectors import customer_get_by_user
from customers.services import customer_update
from stores.models import CustomerStore, StoreMembership
from stores.services import customer_store_link
from tests.conftest import HubClient, api_key_client, bearer_client, json_of
from tests.factories import CustomerFactory, PriceListFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/customers"
BULK = "/customers/bulk"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DENIED = "You do not have access to this store"


def client(principal, store=None, **headers):
    if store is not None:
        headers["x-store-id"] = str(store.id)
    return bearer_client(principal, **headers)


def linked(store, price_list=None, **fields) -> Customer:
    customer = CustomerFactory(tenant=store.tenant, **fields)
    customer_store_link(customer=customer, store=store, price_list=price_list)
    return customer


def price_list_url(customer) -> str:
    customer_id = customer.uuid if isinstance(customer, Customer) else customer
    return f"/customers/{customer_id}/price-list"


def assert_error(response, status: int, message: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = json_of(response)
    assert set(body) == {"message", "statusCode", "requestId"}
    assert body["statusCode"] == status
    assert body["requestId"] == response["X-Request-ID"]
    if message is not None:
        assert body["message"] == message
    return body


def ids_of(response) -> list[str]:
    return [item["id"] for item in json_of(response)["data"]]


# --- GET /customers: content and shape --------------------------------------------------------


def test_list_shows_only_this_stores_customers_in_the_seed_shape(world, other):
    mine = customer_get_by_user(tenant=world.tenant, user=world.agent)
    customer_update(customer=mine, local_name="Ali's")
    customer_store_link(customer=mine, store=world.store, price_list=world.price_list)
    linked(world.store2)
    linked(other.store)
    response = client(world.agent, world.store).get(URL)
    assert response.status_code == 200
    body = json_of(response)
    assert body["pagination"] == {
        "page": 1,
        "limit": 10,
        "total": 1,
        "totalPages": 1,
        "hasNext": False,
        "hasPrev": False,
    }
    (item,) = body["data"]
    assert item == {
        "id": str(mine.uuid),
        "name": mine.name,
        "localName": "Ali's",
        "defaultPriceListId": str(world.price_list.id),
        "userId": str(world.agent.pk),
        "isActive": True,
        "createdAt": item["createdAt"],
        "updatedAt": item["updatedAt"],
    }
    assert ISO_MS.match(item["createdAt"]) and ISO_MS.match(item["updatedAt"])
    created = datetime.fromisoformat(item["createdAt"].replace("Z", "+00:00"))
    assert abs(created - mine.created_at) < timedelta(milliseconds=1)


def test_list_shows_nulls_and_falls_back_to_the_display_name(world):
    customer = linked(world.store, name="", local_name="", first_name="Jan", last_name="Smit")
    (item,) = json_of(client(world.agent, world.store).get(URL))["data"]
    assert item["id"] == str(customer.uuid)
    assert item["name"] == "Jan Smit"
    assert item["localName"] is None
    assert item["defaultPriceListId"] is None
    assert item["userId"] is None


def test_default_price_list_is_the_one_of_this_stores_link(world):
    customer = linked(world.store, price_list=world.price_list)
    customer_store_link(customer=customer, store=world.store2)
    first = json_of(client(world.admin, world.store).get(URL))["data"][0]
    second = json_of(client(world.admin, world.store2).get(URL))["data"][0]
    assert first["defaultPriceListId"] == str(world.price_list.id)
    assert second["defaultPriceListId"] is None


# --- pagination -------------------------------------------------------------------------------


def test_empty_store_has_zero_pages(world):
    response = client(world.agent, world.store).get(URL)
    assert json_of(response) == {
        "data": [],
        "pagination": {
            "page": 1,
            "limit": 10,
            "total": 0,
            "totalPages": 0,
            "hasNext": False,
            "hasPrev": False,
        },
    }


@pytest.mark.parametrize(
    ("total", "limit", "page", "count", "pages", "has_next", "has_prev"),
    [
        (5, 10, 1, 5, 1, False, False),  # less than one page
        (20, 10, 1, 10, 2, True, False),  # exact multiple, first page
        (20, 10, 2, 10, 2, False, True),  # exact multiple, last page is full
        (21, 10, 3, 1, 3, False, True),  # last page with the remainder
        (21, 10, 2, 10, 3, True, True),  # a middle page
        (20, 10, 3, 0, 2, False, True),  # beyond the last page: empty, not an error
        (3, 1, 2, 1, 3, True, True),  # limit 1
        (3, 100, 1, 3, 1, False, False),  # limit 100
    ],
)
def test_pagination_arithmetic(world, total, limit, page, count, pages, has_next, has_prev):
    customers = [linked(world.store) for _ in range(total)]
    response = client(world.agent, world.store).get(URL, {"page": page, "limit": limit})
    body = json_of(response)
    assert body["pagination"] == {
        "page": page,
        "limit": limit,
        "total": total,
        "totalPages": pages,
        "hasNext": has_next,
        "hasPrev": has_prev,
    }
    newest_first = [str(c.uuid) for c in reversed(customers)]
    assert ids_of(response) == newest_first[(page - 1) * limit : page * limit]
    assert len(body["data"]) == count


def test_pages_cover_every_customer_exactly_once(world):
    customers = [linked(world.store) for _ in range(23)]
    api = client(world.agent, world.store)
    seen = []
    for page in (1, 2, 3):
        seen += ids_of(api.get(URL, {"page": page, "limit": 10, "sortBy": "isActive"}))
    assert sorted(seen) == sorted(str(c.uuid) for c in customers)


def test_empty_query_parameters_count_as_not_given(world):
    linked(world.store)
    response = client(world.agent, world.store).get(
        URL, {"page": "", "limit": "", "sortBy": "", "sortOrder": "", "isActive": "", "search": ""}
    )
    assert response.status_code == 200
    assert json_of(response)["pagination"]["limit"] == 10


# --- sorting ----------------------------------------------------------------------------------

SORT_KEYS = {
    "name": lambda c: c.name.lower(),
    "isActive": lambda c: c.is_active,
    "updatedAt": lambda c: c.updated_at,
    "createdAt": lambda c: c.created_at,
}


@pytest.mark.parametrize("sort_order", ["asc", "desc"])
@pytest.mark.parametrize("sort_by", list(SORT_KEYS))
def test_sorting_on_each_field_both_ways_with_a_stable_tie_break(world, sort_by, sort_order):
    base = datetime(2025, 11, 3, 10, 0, tzinfo=UTC)
    specs = [
        ("bravo", True, 3, 1),
        ("Alpha", False, 1, 2),
        ("charlie", True, 1, 1),  # ties with Alpha on updatedAt, with bravo on createdAt
        ("alpha", True, 2, 3),  # ties with Alpha on name (case-insensitive)
        ("Delta", False, 3, 3),
    ]
    for name, active, updated, created in specs:
        customer = CustomerFactory(tenant=world.tenant, name=name, is_active=active)
        Customer.objects.filter(pk=customer.pk).update(
            updated_at=base + timedelta(hours=updated), created_at=base + timedelta(hours=created)
        )
        # A customer's creation time never changes once it exists; its store links copy it
        # when they are made (CustomerStore.customer_created_at, the list's sort key).
        customer.refresh_from_db()
        customer_store_link(customer=customer, store=world.store)
    customers = list(Customer.objects.filter(store_links__store=world.store))
    key = SORT_KEYS[sort_by]
    expected = sorted(customers, key=lambda c: (key(c), c.pk), reverse=sort_order == "desc")
    response = client(world.agent, world.store).get(
        URL, {"sortBy": sort_by, "sortOrder": sort_order}
    )
    assert response.status_code == 200
    assert ids_of(response) == [str(c.uuid) for c in expected]


def test_default_order_is_newest_first(world):
    customers = [linked(world.store) for _ in range(3)]
    same = datetime(2025, 1, 1, tzinfo=UTC)
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(created_at=same)
    response = client(world.agent, world.store).get(URL)
    assert ids_of(response) == [str(c.uuid) for c in reversed(customers)]


def test_name_sort_uses_the_shown_name(world):
    b = linked(world.store, name="", local_name="", first_name="Bea", last_name="Zed")
    a = linked(world.store, name="", local_name="Anna")
    c = linked(world.store, name="Carl")
    response = client(world.agent, world.store).get(URL, {"sortBy": "name", "sortOrder": "asc"})
    assert [item["name"] for item in json_of(response)["data"]] == ["Anna", "Bea Zed", "Carl"]
    assert ids_of(response) == [str(a.uuid), str(b.uuid), str(c.uuid)]


def test_the_shown_name_in_sql_is_the_python_rule(world):
    """customers.models.display_name_sql and display_name agree on every combination of
    blank and set name parts (the rule is written twice, once per language, side by side)."""
    import itertools

    from customers.models import Customer, display_name_sql

    parts = ("name", "local_name", "first_name", "preposition", "last_name")
    parts += ("discord_display_name", "discord_username")
    made = []
    for i, mask in enumerate(itertools.product((False, True), repeat=len(parts))):
        values = {p: (f"{p[:3]}{i}" if on else "") for p, on in zip(parts, mask, strict=True)}
        made.append(CustomerFactory(tenant=world.tenant, email=f"e{i}@x.example", **values))
    shown = dict(
        Customer.objects.filter(pk__in=[c.pk for c in made])
        .annotate(shown=display_name_sql())
        .values_list("pk", "shown")
    )
    assert {c.pk: c.display_name for c in made} == shown


# --- filters ----------------------------------------------------------------------------------


def test_search_matches_name_or_local_name_partially_and_case_insensitively(world):
    by_name = linked(world.store, name="John Doe", local_name="")
    by_local = linked(world.store, name="Shop", local_name="Johnny's corner")
    linked(world.store, name="Mary", local_name="Ann")
    linked(world.store2, name="John elsewhere")
    response = client(world.agent, world.store).get(URL, {"search": "JOHN"})
    assert set(ids_of(response)) == {str(by_name.uuid), str(by_local.uuid)}
    assert json_of(response)["pagination"]["total"] == 2


def test_name_filter_matches_only_the_name(world):
    doe = linked(world.store, name="John Doe", local_name="")
    linked(world.store, name="Shop", local_name="John Doe's")
    response = client(world.agent, world.store).get(URL, {"name": "john doe"})
    assert ids_of(response) == [str(doe.uuid)]


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False)])
def test_is_active_filter(world, value, expected):
    active = linked(world.store, is_active=True)
    inactive = linked(world.store, is_active=False)
    response = client(world.agent, world.store).get(URL, {"isActive": value})
    assert ids_of(response) == [str((active if expected else inactive).uuid)]


def test_filters_combine(world):
    hit = linked(world.store, name="John A", is_active=True)
    linked(world.store, name="John B", is_active=False)
    linked(world.store, name="Mary", is_active=True)
    response = client(world.agent, world.store).get(URL, {"search": "john", "isActive": "true"})
    assert ids_of(response) == [str(hit.uuid)]


# --- GET validation (the seed's Validation Rules) ---------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "0"}, "Invalid page number"),
        ({"page": "-1"}, "Invalid page number"),
        ({"page": "abc"}, "Invalid page number"),
        ({"page": "1.5"}, "Invalid page number"),
        ({"page": "99999999999999999999"}, "Invalid page number"),
        ({"limit": "0"}, "limit must be between 1 and 100"),
        ({"limit": "101"}, "limit must be between 1 and 100"),
        ({"limit": "ten"}, "limit must be between 1 and 100"),
        ({"sortBy": "email"}, "sortBy must be one of: name, isActive, updatedAt, createdAt"),
        ({"sortBy": "NAME"}, "sortBy must be one of: name, isActive, updatedAt, createdAt"),
        ({"sortOrder": "up"}, "sortOrder must be either asc or desc"),
        ({"sortOrder": "ASC"}, "sortOrder must be either asc or desc"),
        ({"isActive": "yes"}, "isActive must be a boolean value (true or false)"),
        ({"search": "x" * 256}, None),
        ({"name": "x" * 256}, None),
        ({"search": "nul\x00byte"}, None),
    ],
)
def test_invalid_query_parameters_are_400(world, params, message):
    response = client(world.agent, world.store).get(URL, params)
    body = assert_error(response, 400, message)
    if message is None:
        assert next(iter(params)) in body["message"]


# --- access -----------------------------------------------------------------------------------


def test_no_credentials_is_401_in_the_seed_format(world):
    response = HubClient().get(URL, HTTP_X_STORE_ID=str(world.store.id))
    assert_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_invalid_token_is_401(world):
    assert_error(client("not-a-token", world.store).get(URL), 401)


def test_session_and_basic_api_key_are_not_this_dialects_credentials(world):
    session = HubClient()
    session.force_login(world.admin)
    assert_error(session.get(URL, HTTP_X_STORE_ID=str(world.store.id)), 401)
    basic = api_key_client(world.api_key, "basic", **{"x-store-id": str(world.store.id)})
    assert_error(basic.get(URL), 401)


def test_missing_or_malformed_store_header_is_400(world):
    assert_error(client(world.agent).get(URL), 400, "The x-store-id header is required.")
    assert_error(client(world.agent, **{"x-store-id": "store_123"}).get(URL), 400)


def test_unknown_or_inactive_store_is_403(world):
    assert_error(client(world.agent, **{"x-store-id": str(uuid.uuid4())}).get(URL), 403, DENIED)
    world.store.is_active = False
    world.store.save()
    assert_error(client(world.agent, world.store).get(URL), 403, DENIED)


def test_agent_without_a_relation_with_the_store_is_403(world):
    assert_error(client(world.agent, world.store2).get(URL), 403, DENIED)
    StoreMembership.objects.filter(user=world.agent, store=world.store).update(is_active=False)
    assert_error(client(world.agent, world.store).get(URL), 403, DENIED)


def test_admin_and_api_keys_reach_every_store_of_their_tenant(world):
    linked(world.store2)
    for principal in (world.admin, world.api_key, world.viewer_key):
        response = client(principal, world.store2).get(URL)
        assert response.status_code == 200
        assert json_of(response)["pagination"]["total"] == 1


def test_another_tenants_store_is_403_for_every_principal(world, other):
    for principal in (world.admin, world.agent, world.api_key):
        assert_error(client(principal, other.store).get(URL), 403, DENIED)
    user = UserFactory(is_superuser=True)
    assert client(user, other.store).get(URL).status_code == 200


@pytest.mark.parametrize("route", ["create", "set", "remove", "bulk"])
def test_viewers_may_not_write(world, route):
    customer = linked(world.store, price_list=world.price_list)
    method, path, body = {
        "create": ("post", URL, {"localName": "x"}),
        "set": ("put", price_list_url(customer), {"priceListId": str(world.price_list.id)}),
        "remove": ("delete", price_list_url(customer), None),
        "bulk": ("delete", BULK, {"ids": [str(customer.uuid)]}),
    }[route]
    before = Customer.objects.count()
    for principal in (world.viewer, world.viewer_key):
        response = getattr(client(principal, world.store), method)(path, body, format="json")
        assert_error(response, 403, "Your role may only read in this tenant.")
    assert CustomerStore.objects.get(store=world.store).price_list == world.price_list
    assert Customer.objects.count() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", URL), ("post", URL), ("put", "/customers/{id}/price-list"), ("delete", BULK)],
)
def test_agent_may_not_use_another_store_on_any_route(world, method, path):
    customer = linked(world.store2)
    path = path.format(id=customer.uuid)
    response = getattr(client(world.agent, world.store2), method)(path, {}, format="json")
    assert_error(response, 403, DENIED)


# --- query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("principal", ["agent", "admin", "api_key"])
def test_list_query_count_is_the_same_for_10_and_100_items(
    world, principal, django_assert_max_num_queries
):
    for _ in range(100):
        linked(world.store)
    api = client(getattr(world, principal), world.store)
    api.get(URL)  # an API key's first use records last_used_at
    # authentication (1: a knox token with its user, or an API key) + store + role (none for
    # an API key) + store relation (agents only) + the page: COUNT + page query, or, for a
    # search, its matches counted and sorted once + the page's rows (tenants.paging)
    expected = {"agent": 6, "admin": 5, "api_key": 4}[principal]
    for limit in (10, 100):
        with django_assert_max_num_queries(expected):
            response = api.get(URL, {"limit": limit, "search": "a", "sortBy": "name"})
        assert response.status_code == 200
    with django_assert_max_num_queries(expected):
        assert len(ids_of(api.get(URL, {"limit": 100}))) == 100


def test_page_beyond_the_end_skips_the_page_query(world, django_assert_max_num_queries):
    linked(world.store)
    api = client(world.admin, world.store)
    with django_assert_max_num_queries(4):  # token + store + role + COUNT
        assert ids_of(api.get(URL, {"page": 5})) == []


# --- POST /customers --------------------------------------------------------------------------


def test_create_customer_links_it_to_the_store(world):
    response = client(world.agent, world.store).post(
        URL, {"localName": "Ali's Boutique", "unknown": "ignored"}, format="json"
    )
    assert response.status_code == 200
    body = json_of(response)
    customer = Customer.objects.get(uuid=body["customer"]["id"])
    link = CustomerStore.objects.get(customer=customer)
    assert customer.tenant == world.tenant
    assert customer.source == Source.MANUAL
    assert customer.name == customer.local_name == "Ali's Boutique"
    assert link.store == world.store and link.price_list is None
    assert body["customer"] == {
        "id": str(customer.uuid),
        "name": "Ali's Boutique",
        "localName": "Ali's Boutique",
        "defaultPriceListId": None,
        "userId": None,
        "isActive": True,
        "createdAt": body["customer"]["createdAt"],
        "updatedAt": body["customer"]["updatedAt"],
    }
    assert body["customerStore"] == {
        "id": str(link.id),
        "customerId": str(customer.uuid),
        "storeId": str(world.store.id),
        "createdAt": body["customerStore"]["createdAt"],
    }
    assert ISO_MS.match(body["customerStore"]["createdAt"])
    assert customer.history.count() == 1 and link.history.get().history_user == world.agent
    listed = json_of(client(world.agent, world.store).get(URL))["data"]
    assert listed == [body["customer"]]


def test_create_customer_with_a_default_price_list(world):
    response = client(world.api_key, world.store2).post(
        URL,
        {"localName": "  Trimmed  ", "defaultPriceListId": str(world.price_list.id)},
        format="json",
    )
    assert response.status_code == 200
    body = json_of(response)
    assert body["customer"]["defaultPriceListId"] == str(world.price_list.id)
    assert body["customer"]["localName"] == "Trimmed"
    link = CustomerStore.objects.get(id=body["customerStore"]["id"])
    assert link.store == world.store2 and link.price_list == world.price_list


def test_create_customer_with_null_price_list(world):
    response = client(world.admin, world.store).post(
        URL, {"localName": "x", "defaultPriceListId": None}, format="json"
    )
    assert response.status_code == 200
    assert json_of(response)["customer"]["defaultPriceListId"] is None


@pytest.mark.parametrize("which", ["inactive", "other_tenant", "missing"])
def test_create_with_an_unusable_price_list_is_404_and_writes_nothing(world, other, which):
    price_list_id = {
        "inactive": world.inactive_price_list.id,
        "other_tenant": other.price_list.id,
        "missing": uuid.uuid4(),
    }[which]
    before = Customer.objects.count(), CustomerStore.objects.count()
    response = client(world.agent, world.store).post(
        URL, {"localName": "x", "defaultPriceListId": str(price_list_id)}, format="json"
    )
    assert_error(response, 404, "Price list not found")
    assert (Customer.objects.count(), CustomerStore.objects.count()) == before


def test_create_is_one_transaction(world, monkeypatch):
    from stores import services

    def broken(**kwargs):
        raise RuntimeError("link failed")

    monkeypatch.setattr(services, "customer_store_link", broken)
    before = Customer.objects.count()
    response = client(world.agent, world.store).post(URL, {"localName": "x"}, format="json")
    assert_error(response, 500, "Failed to create customer")
    assert Customer.objects.count() == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "localName is required"),
        ({"localName": None}, "localName is required"),
        ({"localName": ""}, "localName must not be empty"),
        ({"localName": "   "}, "localName must not be empty"),
        ({"localName": 42}, "localName must be a string"),
        ({"localName": ["a"]}, "localName must be a string"),
        ({"localName": "x" * 256}, "localName must be shorter than or equal to 255 characters"),
        ({"localName": "a\x00b"}, None),
        ({"localName": "x", "defaultPriceListId": "pl_abc123"}, None),
        ({"localName": "x", "defaultPriceListId": 12}, None),
        (["localName"], None),
    ],
)
def test_create_validation(world, body, message):
    before = Customer.objects.count()
    response = client(world.agent, world.store).post(URL, body, format="json")
    body = assert_error(response, 400, message)
    assert Customer.objects.count() == before


def test_create_accepts_the_longest_local_name(world):
    response = client(world.agent, world.store).post(URL, {"localName": "x" * 255}, format="json")
    assert response.status_code == 200


def test_malformed_json_and_wrong_content_type(world):
    api = client(world.agent, world.store)
    response = api.post(URL, "{not json", content_type="application/json")
    assert_error(response, 400)
    response = api.post(URL, "localName=x", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415)


def test_oversized_body_is_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client(world.agent, world.store).post(URL, {"localName": "x" * 2000}, format="json")
    assert_error(response, 413)


def test_create_query_count(world, django_assert_max_num_queries):
    api = client(world.agent, world.store)
    # access (5) + price list + customer (INSERT + history) + link (SELECT, INSERT + history)
    # + savepoints
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    with django_assert_max_num_queries(22):
        response = api.post(
            URL, {"localName": "x", "defaultPriceListId": str(world.price_list.id)}, format="json"
        )
    assert response.status_code == 200


# --- PUT /customers/{customerId}/price-list ---------------------------------------------------


def test_set_price_list(world):
    customer = linked(world.store, local_name="Ali's Boutique")
    old_updated = customer.updated_at
    response = client(world.agent, world.store).put(
        price_list_url(customer), {"priceListId": str(world.price_list.id)}, format="json"
    )
    assert response.status_code == 200
    body = json_of(response)
    assert body["success"] is True
    assert body["message"] == "Customer price list has been updated"
    assert body["customer"]["id"] == str(customer.uuid)
    assert body["customer"]["localName"] == "Ali's Boutique"
    assert body["customer"]["name"] == customer.name
    assert body["customer"]["defaultPriceListId"] == str(world.price_list.id)
    link = CustomerStore.objects.get(customer=customer, store=world.store)
    assert link.price_list == world.price_list
    customer.refresh_from_db()
    assert customer.updated_at > old_updated
    assert link.history.first().history_type == "~"


def test_set_price_list_and_rename(world):
    customer = linked(world.store, name="Old")
    response = client(world.admin, world.store).put(
        price_list_url(customer),
        {"priceListId": str(world.price_list.id), "name": "Updated Customer Name"},
        format="json",
    )
    assert response.status_code == 200
    assert json_of(response)["customer"]["name"] == "Updated Customer Name"
    customer.refresh_from_db()
    assert customer.name == "Updated Customer Name"


def test_set_price_list_changes_only_this_stores_link(world):
    customer = linked(world.store)
    customer_store_link(customer=customer, store=world.store2)
    other_list = PriceListFactory(tenant=world.tenant)
    client(world.admin, world.store).put(
        price_list_url(customer), {"priceListId": str(other_list.id)}, format="json"
    )
    assert CustomerStore.objects.get(customer=customer, store=world.store).price_list == other_list
    assert CustomerStore.objects.get(customer=customer, store=world.store2).price_list is None


@pytest.mark.parametrize("which", ["other_store", "other_tenant", "missing", "malformed", "bulk"])
def test_set_price_list_of_a_customer_not_in_this_store_is_404(world, other, which):
    customer_id = {
        "other_store": lambda: linked(world.store2).uuid,
        "other_tenant": lambda: linked(other.store).uuid,
        "missing": uuid.uuid4,
        "malformed": lambda: "cst_abc123",
        "bulk": lambda: "bulk",
    }[which]()
    response = client(world.admin, world.store).put(
        price_list_url(customer_id), {"priceListId": str(world.price_list.id)}, format="json"
    )
    assert_error(response, 404, "Customer not found")


@pytest.mark.parametrize("which", ["inactive", "other_tenant", "missing"])
def test_set_an_unusable_price_list_is_404_and_changes_nothing(world, other, which):
    customer = linked(world.store, price_list=world.price_list, name="Kept")
    price_list_id = {
        "inactive": world.inactive_price_list.id,
        "other_tenant": other.price_list.id,
        "missing": uuid.uuid4(),
    }[which]
    response = client(world.agent, world.store).put(
        price_list_url(customer), {"priceListId": str(price_list_id), "name": "New"}, format="json"
    )
    assert_error(response, 404, "Price list not found")
    customer.refresh_from_db()
    assert customer.name == "Kept"
    assert CustomerStore.objects.get(customer=customer).price_list == world.price_list


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "priceListId is required"),
        ({"priceListId": None}, "priceListId is required"),
        ({"priceListId": "pl_789xyz"}, "priceListId must be a UUID"),
        ({"priceListId": 7}, "priceListId must be a UUID"),
        ({"priceListId": "{pl}", "name": ""}, "name must not be empty"),
        ({"priceListId": "{pl}", "name": 5}, "name must be a string"),
        ({"priceListId": "{pl}", "name": "x" * 256}, None),
    ],
)
def test_set_price_list_validation(world, body, message):
    customer = linked(world.store)
    body = {k: str(world.price_list.id) if v == "{pl}" else v for k, v in body.items()}
    response = client(world.agent, world.store).put(price_list_url(customer), body, format="json")
    assert_error(response, 400, message)
    assert CustomerStore.objects.get(customer=customer).price_list is None


def test_set_price_list_query_count(world, django_assert_max_num_queries):
    customer = linked(world.store)
    api = client(world.agent, world.store)
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    with django_assert_max_num_queries(19):
        response = api.put(
            price_list_url(customer),
            {"priceListId": str(world.price_list.id), "name": "New"},
            format="json",
        )
    assert response.status_code == 200


# --- DELETE /customers/{customerId}/price-list ------------------------------------------------


def test_remove_price_list(world):
    customer = linked(world.store, price_list=world.price_list, local_name="Ali's Boutique")
    api = client(world.agent, world.store)
    response = api.delete(price_list_url(customer))
    assert response.status_code == 200
    body = json_of(response)
    assert body["success"] is True
    assert body["message"] == "Customer price list has been removed"
    assert body["customer"]["defaultPriceListId"] is None
    assert body["customer"]["localName"] == "Ali's Boutique"
    assert CustomerStore.objects.get(customer=customer).price_list is None
    # idempotent
    assert api.delete(price_list_url(customer)).status_code == 200


def test_remove_price_list_leaves_other_stores_links(world):
    customer = linked(world.store, price_list=world.price_list)
    customer_store_link(customer=customer, store=world.store2, price_list=world.price_list)
    client(world.admin, world.store).delete(price_list_url(customer))
    assert CustomerStore.objects.get(store=world.store2).price_list == world.price_list


@pytest.mark.parametrize("which", ["other_store", "other_tenant", "missing", "malformed"])
def test_remove_price_list_of_a_customer_not_in_this_store_is_404(world, other, which):
    customer_id = {
        "other_store": lambda: linked(world.store2, price_list=world.price_list).uuid,
        "other_tenant": lambda: linked(other.store, price_list=other.price_list).uuid,
        "missing": uuid.uuid4,
        "malformed": lambda: "x" * 300,
    }[which]()
    response = client(world.admin, world.store).delete(price_list_url(customer_id))
    assert_error(response, 404, "Customer not found")
    assert not CustomerStore.objects.filter(price_list=None).exists()


def test_remove_price_list_query_count(world, django_assert_max_num_queries):
    customer = linked(world.store, price_list=world.price_list)
    api = client(world.agent, world.store)
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    with django_assert_max_num_queries(13):
        assert api.delete(price_list_url(customer)).status_code == 200


# --- DELETE /customers/bulk -------------------------------------------------------------------


def test_bulk_removes_only_this_stores_links(world, other):
    a, b = linked(world.store), linked(world.store)
    kept = linked(world.store)
    customer_store_link(customer=b, store=world.store2)
    elsewhere = linked(world.store2)
    foreign = linked(other.store)
    ids = [a.uuid, b.uuid, a.uuid, elsewhere.uuid, foreign.uuid, uuid.uuid4()]
    response = client(world.agent, world.store).delete(
        BULK, {"ids": [str(i) for i in ids]}, format="json"
    )
    assert response.status_code == 200
    assert json_of(response) == {"message": "Customers removed from store", "deletedCount": 2}
    assert list(
        CustomerStore.objects.filter(store=world.store).values_list("customer", flat=True)
    ) == [kept.pk]
    assert CustomerStore.objects.filter(store=world.store2).count() == 2
    assert CustomerStore.objects.filter(store=other.store, customer=foreign).exists()
    assert Customer.objects.filter(pk__in=[a.pk, b.pk]).count() == 2  # records are kept
    history = CustomerStore.history.filter(history_type="-")
    assert sorted(h.customer_id for h in history) == sorted([a.pk, b.pk])
    assert {h.store_id for h in history} == {world.store.id}
    assert {h.history_user_id for h in history} == {world.agent.pk}


def test_bulk_with_an_api_key_names_the_key_in_the_history(world):
    customer = linked(world.store, price_list=world.price_list)
    response = client(world.api_key, world.store).delete(
        BULK, {"ids": [str(customer.uuid)]}, format="json"
    )
    assert json_of(response)["deletedCount"] == 1
    record = CustomerStore.history.get(history_type="-")
    assert record.history_user is None
    assert world.api_key.name in record.history_change_reason
    assert record.price_list_id == world.price_list.id


def test_bulk_with_nothing_linked_removes_nothing(world):
    response = client(world.agent, world.store).delete(
        BULK, {"ids": [str(uuid.uuid4())]}, format="json"
    )
    assert json_of(response)["deletedCount"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "No customer IDs provided"),
        ({"ids": []}, "No customer IDs provided"),
        ({"ids": None}, "No customer IDs provided"),
        ({"ids": "abc"}, "ids must be an array of UUIDs"),
        ({"ids": ["cst_123"]}, "each value in ids must be a UUID"),
        ({"ids": [123]}, "each value in ids must be a UUID"),
        ({"ids": [None]}, None),
        ({"ids": ["{uuid}"] * 1001}, "ids must contain no more than 1000 elements"),
    ],
)
def test_bulk_validation(world, body, message):
    customer = linked(world.store)
    body = {
        k: [str(customer.uuid) if i == "{uuid}" else i for i in v] if isinstance(v, list) else v
        for k, v in body.items()
    }
    response = client(world.agent, world.store).delete(BULK, body, format="json")
    assert_error(response, 400, message)
    assert CustomerStore.objects.filter(store=world.store).count() == 1


def test_bulk_without_a_body_is_400(world):
    response = client(world.agent, world.store).delete(BULK)
    assert_error(response, 400, "No customer IDs provided")


def test_bulk_accepts_1000_ids_in_a_constant_number_of_queries(
    world, django_assert_max_num_queries
):
    customers = [linked(world.store) for _ in range(3)]
    api = client(world.agent, world.store)
    # token + store + role + store relation, then SELECT FOR UPDATE + INSERT … SELECT of the
    # history + DELETE (+ the savepoint and its release around the service)
    few = [str(customers[0].uuid)]
    many = [str(c.uuid) for c in customers[1:]] + [str(uuid.uuid4()) for _ in range(998)]
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    with django_assert_max_num_queries(10):
        assert json_of(api.delete(BULK, {"ids": few}, format="json"))["deletedCount"] == 1
    with django_assert_max_num_queries(10):
        assert json_of(api.delete(BULK, {"ids": many}, format="json"))["deletedCount"] == 2


# --- generic errors in the seed's format ------------------------------------------------------


def test_unexpected_error_is_500_with_the_seeds_message(world, monkeypatch):
    from stores import selectors

    def broken(**kwargs):
        raise RuntimeError("database is on fire")

    monkeypatch.setattr(selectors, "store_customers", broken)
    response = client(world.agent, world.store).get(URL)
    body = assert_error(response, 500, "Failed to fetch customers")
    assert "fire" not in body["message"]


def test_unknown_route_is_404_in_the_seed_format(world):
    api = client(world.agent, world.store)
    assert_error(api.get("/customers/abc"), 404, "Cannot GET /customers/abc")
    assert_error(api.get("/customers/"), 404)


def test_wrong_method_is_405_in_the_seed_format(world):
    api = HubClient(check_schema=False)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {world.api_key.secret}")
    assert_error(api.get(BULK, HTTP_X_STORE_ID=str(world.store.id)), 405)
    assert_error(api.patch(URL, {}, format="json", HTTP_X_STORE_ID=str(world.store.id)), 405)


def test_openapi_documents_the_envelopes_and_error_format():
    from tests.openapi import openapi

    document = openapi()
    assert document["components"]["schemas"]["StoreError"]["required"] == [
        "message",
        "statusCode",
        "requestId",
    ]
    paths = document["paths"]
    assert set(paths["/customers"]) >= {"get", "post"}
    assert set(paths["/customers/{customerId}/price-list"]) >= {"put", "delete"}
    bulk = paths["/customers/bulk"]["delete"]
    assert bulk["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "StoreCustomersBulkDeleteRequest"
    )
    for operation in (paths["/customers"]["get"], bulk):
        for status in ("400", "401", "403", "500"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/StoreError"}
    assert "404" in paths["/customers"]["post"]["responses"]


def test_the_compiled_record_is_what_the_declared_fields_render(world):
    from rest_framework import serializers as drf

    from stores import selectors as store_selectors
    from stores.api.serializers import STORE_CUSTOMER_COLUMNS, StoreCustomerSerializer
    from tenants.api.compiled import declared as drf_declared

    user = UserFactory()
    shapes = [
        linked(world.store, price_list=world.price_list, name="Ali", local_name="Ali's"),
        linked(world.store, name="", local_name="", first_name="Ada", last_name="Lovelace"),
        linked(world.store, user=user, is_active=False),
    ]
    for customer in shapes:
        link = CustomerStore.objects.select_related("customer").get(
            customer=customer, store=world.store
        )
        serializer = StoreCustomerSerializer(link)
        declared = drf.Serializer.to_representation(serializer, link)
        assert serializer.data == declared
        assert list(serializer.data) == list(declared)
        links = store_selectors.store_customers(store=world.store)
        row = store_selectors.store_customer_rows(links, STORE_CUSTOMER_COLUMNS).get(
            customer_id=customer.pk
        )
        assert StoreCustomerSerializer(row).data == declared  # what the list renders
        assert drf_declared(serializer, row) == declared
