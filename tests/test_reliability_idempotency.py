"""Idempotency-Key on every POST of every dialect (tenants/idempotency.py; Stripe's contract)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from customers.models import Customer
from customers.services import member_join
from stores.models import StoreMembership
from tenants.idempotency import (
    HEADER,
    credential_fingerprint,
    lock_timeout,
    request_fingerprint,
    request_scope,
)
from tenants.models import IdempotencyRecord
from tests.conftest import HubClient, bearer_client, json_of
from tests.openapi import openapi
from tests.reliability_support import (
    DIALECTS,
    create_case,
    customers_of,
    request_id_in,
    route_exists,
)

pytestmark = pytest.mark.django_db

KEY = "HTTP_IDEMPOTENCY_KEY"


def _case(dialect, world, **kwargs):
    case = create_case(dialect, world, **kwargs)
    if not route_exists(case.path, "POST"):
        pytest.skip(f"POST {case.path} does not exist yet")
    return case


@pytest.mark.parametrize("dialect", DIALECTS)
def test_retry_with_same_key_replays_without_second_write(world, dialect):
    case = _case(dialect, world)
    before = customers_of(world.tenant)
    first = case.client.post(case.path, case.body(1), format="json", **{KEY: "k-1"})
    assert first.status_code == case.created_status, first.content
    assert customers_of(world.tenant) == before + 1
    assert not first.has_header("Idempotent-Replayed")

    again = case.client.post(case.path, case.body(1), format="json", **{KEY: "k-1"})
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again["Original-Request-Id"] == first["X-Request-ID"]
    assert again["X-Request-ID"] != first["X-Request-ID"]
    assert again["Content-Type"] == first["Content-Type"]
    assert customers_of(world.tenant) == before + 1
    record = IdempotencyRecord.objects.get(key="k-1")
    assert record.state == "completed"
    assert record.status_code == case.created_status
    assert abs(record.expires_at - record.created_at - timedelta(hours=24)) < timedelta(seconds=5)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_same_key_with_another_body_is_422_in_the_dialect_format(world, dialect):
    case = _case(dialect, world)
    assert case.client.post(case.path, case.body(1), format="json", **{KEY: "k-2"}).status_code
    before = customers_of(world.tenant)
    response = case.client.post(case.path, case.body(2), format="json", **{KEY: "k-2"})
    assert response.status_code == 422
    body = json_of(response)
    assert request_id_in(dialect, body) == response["X-Request-ID"]
    assert "Idempotency-Key" in str(body)
    assert customers_of(world.tenant) == before


@pytest.mark.parametrize("dialect", DIALECTS)
def test_without_key_every_post_is_processed(world, dialect):
    case = _case(dialect, world)
    before = customers_of(world.tenant)
    case.client.post(case.path, case.body(1), format="json")
    case.client.post(case.path, case.body(2), format="json")
    assert customers_of(world.tenant) == before + 2
    assert not IdempotencyRecord.objects.exists()


def test_json_key_order_and_whitespace_do_not_matter(world):
    case = _case("data", world)
    first = case.client.post(
        case.path,
        '{"discordId": "x1", "discordUsername": "a", "discordDisplayName": "A"}',
        content_type="application/json",
        **{KEY: "k-3"},
    )
    again = case.client.post(
        case.path,
        '{"discordDisplayName":"A","discordUsername":"a",   "discordId":"x1"}',
        content_type="application/json",
        **{KEY: "k-3"},
    )
    assert first.status_code == 201
    assert again["Idempotent-Replayed"] == "true"


def test_keys_are_scoped_to_the_credential(world):
    case = _case("peppered", world)
    from tests.conftest import api_key_client
    from tests.factories import ApiKeyFactory

    other_key = ApiKeyFactory(tenant=world.tenant, role="agent")
    first = case.client.post(case.path, case.body(1), format="json", **{KEY: "shared"})
    assert first.status_code == 201
    # Another credential of the same tenant, same key, same body: its own request, so the
    # duplicate email is refused by the service (not replayed from the first caller).
    second = api_key_client(other_key, "bare").post(
        case.path, case.body(1), format="json", **{KEY: "shared"}
    )
    assert second.status_code == 422
    assert not second.has_header("Idempotent-Replayed")
    assert IdempotencyRecord.objects.filter(key="shared").count() == 2


def test_keys_are_scoped_to_the_tenant(world, other):
    # One user in two tenants, the same key and body for each: two customers, one each.
    member_join(tenant=other.tenant, user=world.admin, role="admin")
    body = {"discordId": "same", "discordUsername": "s", "discordDisplayName": "S"}
    for tenant in (world.tenant, other.tenant):
        client = bearer_client(world.admin, **{"x-tenant-id": tenant.slug})
        response = client.post("/api/data/customer", body, format="json", **{KEY: "t"})
        assert response.status_code == 201
        assert not response.has_header("Idempotent-Replayed")
    assert Customer.objects.filter(discord_id="same").count() == 2


def test_keys_are_scoped_to_the_route(world):
    case = _case("data", world)
    customer = case.client.post(case.path, case.body(1), format="json", **{KEY: "r"})
    customer_id = json_of(customer)["id"]
    link = case.client.post(
        f"/api/data/customer/{customer_id}/address",
        {
            "addressId": "home",
            "name": "Home",
            "line1": "Main street 1",
            "city": "Town",
            "state": "ST",
            "postalCode": "1234",
            "country": "NL",
        },
        format="json",
        **{KEY: "r"},
    )
    assert link.status_code == 200
    assert not link.has_header("Idempotent-Replayed")


def test_session_credential_is_the_user(world):
    from tests.conftest import csrf_headers, session_client

    client = session_client(world.agent, **{"x-tenant-id": "acme"})
    body = {"discordId": "sess", "discordUsername": "s", "discordDisplayName": "S"}
    first = client.post(
        "/api/data/customer", body, format="json", **{KEY: "s1"}, **csrf_headers(client)
    )
    again = client.post(
        "/api/data/customer", body, format="json", **{KEY: "s1"}, **csrf_headers(client)
    )
    assert first.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.get().scope


def _pending_record(request_factory_kwargs, case, key, body, *, age=timedelta(0)):
    """A ``started`` record as a concurrent first request would have left it."""
    from rest_framework.test import APIRequestFactory

    request = APIRequestFactory().post(case.path, body, format="json", **request_factory_kwargs)
    record = IdempotencyRecord.objects.create(
        scope=request_scope(request, credential_fingerprint(request)),
        key=key,
        method="POST",
        path=case.path,
        request_fingerprint=request_fingerprint(request, request.body),
        expires_at=timezone.now() + timedelta(hours=24),
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - age)
    return record


@pytest.mark.parametrize("dialect", DIALECTS)
def test_key_in_progress_is_409_in_the_dialect_format(world, dialect):
    case = _case(dialect, world)
    meta = dict(case.client._credentials)
    _pending_record(meta, case, "busy", case.body(1))
    before = customers_of(world.tenant)
    response = case.client.post(case.path, case.body(1), format="json", **{KEY: "busy"})
    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert request_id_in(dialect, json_of(response)) == response["X-Request-ID"]
    assert customers_of(world.tenant) == before


def test_a_started_record_of_a_dead_request_is_taken_over(world):
    case = _case("data", world)
    _pending_record(
        dict(case.client._credentials), case, "dead", case.body(1), age=timedelta(minutes=5)
    )
    response = case.client.post(case.path, case.body(1), format="json", **{KEY: "dead"})
    assert response.status_code == 201
    assert IdempotencyRecord.objects.get(key="dead").state == "completed"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_server_error_releases_the_key(world, dialect):
    case = _case(dialect, world)
    client = case.client
    client.raise_request_exception = False
    target = {
        "data": "customers.services.customer_find_or_create_by_discord",
        "peppered": "customers.services.customer_create",
        "store": "stores.services.store_customer_create",
        "b2b": "b2b.services.account_create",
    }[dialect]
    module_name, _, attr = target.rpartition(".")
    module = __import__(module_name, fromlist=[attr])
    if not hasattr(module, attr):
        pytest.skip(f"{target} does not exist")
    with mock.patch(target, side_effect=RuntimeError("boom")):
        failed = client.post(case.path, case.body(1), format="json", **{KEY: "5xx"})
    if failed.status_code != 500:
        pytest.skip(f"{dialect} does not call {target} (answered {failed.status_code})")
    assert not IdempotencyRecord.objects.filter(key="5xx").exists()
    retried = client.post(case.path, case.body(1), format="json", **{KEY: "5xx"})
    assert retried.status_code == case.created_status
    assert not retried.has_header("Idempotent-Replayed")


def test_a_4xx_produced_by_the_view_is_replayed(world):
    case = _case("data", world)
    bad = {"discordId": "", "discordUsername": "x", "discordDisplayName": "X"}
    first = case.client.post(case.path, bad, format="json", **{KEY: "bad"})
    assert first.status_code == 400
    again = case.client.post(case.path, bad, format="json", **{KEY: "bad"})
    assert again.status_code == 400
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"


def test_a_403_is_not_kept_so_the_retry_is_evaluated_again(world):
    client = bearer_client(world.viewer, **{"x-tenant-id": "acme"})
    body = {"discordId": "v", "discordUsername": "v", "discordDisplayName": "V"}
    assert client.post("/api/data/customer", body, format="json", **{KEY: "v"}).status_code == 403
    assert not IdempotencyRecord.objects.exists()


def test_anonymous_requests_are_not_recorded(world):
    response = HubClient().post("/api/data/customer", {}, format="json", **{KEY: "anon"})
    assert response.status_code == 401
    assert not IdempotencyRecord.objects.exists()


def test_unknown_url_is_not_recorded(world):
    client = HubClient(check_schema=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.api_key.secret}")
    response = client.post("/api/data/customer/x/y/z/nothing", {}, format="json", **{KEY: "u"})
    assert response.status_code == 404
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize(
    "key", ["x" * 256, "tab\there", "é-non-ascii"], ids=["too-long", "control", "non-ascii"]
)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_malformed_key_is_refused_in_the_dialect_format(world, dialect, key):
    case = _case(dialect, world)
    before = customers_of(world.tenant)
    response = case.client.post(
        case.path, case.body(1), format="json", **{KEY: key.encode().decode("latin-1")}
    )
    assert response.status_code in (400, 422)
    assert request_id_in(dialect, json_of(response)) == response["X-Request-ID"]
    assert customers_of(world.tenant) == before


def test_a_key_of_255_characters_is_accepted(world):
    case = _case("data", world)
    response = case.client.post(case.path, case.body(1), format="json", **{KEY: "k" * 255})
    assert response.status_code == 201


def test_expired_records_are_ignored_and_purged(world):
    case = _case("data", world)
    case.client.post(case.path, case.body(1), format="json", **{KEY: "old"})
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    # After 24 hours the key is new again: the request runs (find-or-create answers 200).
    response = case.client.post(case.path, case.body(1), format="json", **{KEY: "old"})
    assert response.status_code == 200
    assert not response.has_header("Idempotent-Replayed")
    assert IdempotencyRecord.objects.get(key="old").expires_at > timezone.now()

    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("purge_idempotency_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not IdempotencyRecord.objects.exists()


def test_auth_endpoints_ignore_the_key(world, password):
    client = HubClient()
    body = {"username": "acme-agent", "password": password}
    first = client.post("/api/auth/token", body, format="json", **{KEY: "tok"})
    second = client.post("/api/auth/token", body, format="json", **{KEY: "tok"})
    assert first.status_code == second.status_code == 201
    assert json_of(first)["token"] != json_of(second)["token"]
    assert not IdempotencyRecord.objects.exists()


def test_every_dialect_post_documents_the_header_409_and_422():
    document = openapi()
    posts = [
        (path, ops["post"])
        for path, ops in document["paths"].items()
        if "post" in ops and not path.startswith("/api/auth/")
    ]
    assert posts
    for path, operation in posts:
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert HEADER in names, path
        assert {"409", "422"} <= set(operation["responses"]), path
    auth_posts = [
        ops["post"]
        for p, ops in document["paths"].items()
        if p.startswith("/api/auth/") and "post" in ops
    ]
    for operation in auth_posts:
        assert HEADER not in [p["name"] for p in operation.get("parameters", [])]


# --- a stored answer only for a caller that may still have it --------------------------------


def _revoke(world, case):
    """Revoke the credential the case's client uses, as its owner would."""
    if case.dialect == "peppered":
        from tenants.services import api_key_revoke

        api_key_revoke(api_key=world.api_key)
    else:
        assert case.client.delete("/api/auth/token").status_code == 200


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_revoked_credential_gets_the_401_not_the_replay(world, dialect):
    case = _case(dialect, world)
    first = case.client.post(case.path, case.body(1), format="json", **{KEY: "revoked"})
    assert first.status_code == case.created_status
    _revoke(world, case)
    before = customers_of(world.tenant)
    for body in (case.body(1), case.body(2)):  # the replay, and the 422 of another body
        again = case.client.post(case.path, body, format="json", **{KEY: "revoked"})
        assert again.status_code == 401, again.content
        assert again.has_header("WWW-Authenticate")
        assert not again.has_header("Idempotent-Replayed")
        assert request_id_in(dialect, json_of(again)) == again["X-Request-ID"]
        assert first.content not in again.content
    assert customers_of(world.tenant) == before


@pytest.mark.parametrize(
    "change", ["user deleted", "user deactivated", "password changed", "membership revoked"]
)
def test_a_replay_needs_the_user_and_the_tenant_now(world, change):
    case = _case("b2b", world, client=bearer_client(world.agent, **{"x-tenant-id": "acme"}))
    first = case.client.post(case.path, case.body(1), format="json", **{KEY: "gone"})
    assert first.status_code == 201
    user = world.agent
    if change == "user deleted":
        user.delete()
    elif change == "user deactivated":
        user.is_active = False
        user.save(update_fields=["is_active"])
    elif change == "password changed":
        user.set_password("An0ther-long-passphrase!")
        user.save()
    else:
        from tenants.models import Membership

        Membership.objects.filter(user=user).update(is_active=False)
    again = case.client.post(case.path, case.body(1), format="json", **{KEY: "gone"})
    assert again.status_code == (403 if change == "membership revoked" else 401), again.content
    assert not again.has_header("Idempotent-Replayed")


def test_a_store_replay_needs_the_store_relation_now(world):
    case = _case("store", world)
    first = case.client.post(case.path, case.body(1), format="json", **{KEY: "store"})
    assert first.status_code == 200
    StoreMembership.objects.filter(user=world.agent, store=world.store).update(is_active=False)
    again = case.client.post(case.path, case.body(1), format="json", **{KEY: "store"})
    assert again.status_code == 403
    assert not again.has_header("Idempotent-Replayed")


def test_a_session_replay_needs_the_csrf_token(world):
    from tests.conftest import csrf_headers, session_client

    client = session_client(world.agent, **{"x-tenant-id": "acme"})
    body = {"discordId": "csrf", "discordUsername": "c", "discordDisplayName": "C"}
    first = client.post(
        "/api/data/customer", body, format="json", **{KEY: "c1"}, **csrf_headers(client)
    )
    assert first.status_code == 201
    forged = client.post("/api/data/customer", body, format="json", **{KEY: "c1"})
    assert forged.status_code == 403
    assert not forged.has_header("Idempotent-Replayed")


# --- the view's writes and the stored answer: one transaction ----------------------------------


class WorkerKilled(BaseException):
    """The worker process dies here: no handler and no clean-up of ours runs."""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_worker_killed_between_the_view_and_the_store_leaves_nothing_written(world, dialect):
    case = _case(dialect, world)
    before = customers_of(world.tenant)
    with (
        mock.patch("tenants.idempotency._store", side_effect=WorkerKilled),
        mock.patch("tenants.idempotency._release"),  # a dead process releases nothing
        pytest.raises(WorkerKilled),
    ):
        case.client.post(case.path, case.body(1), format="json", **{KEY: "crash"})
    # The view's writes died with the worker; only its claim is left.
    assert customers_of(world.tenant) == before
    assert IdempotencyRecord.objects.get(key="crash").state == "started"

    # After the lock timeout the retry takes the claim over and runs the view, once.
    IdempotencyRecord.objects.filter(key="crash").update(
        created_at=timezone.now() - lock_timeout() - timedelta(seconds=1)
    )
    retry = case.client.post(case.path, case.body(1), format="json", **{KEY: "crash"})
    assert retry.status_code == case.created_status, retry.content
    assert not retry.has_header("Idempotent-Replayed")
    assert customers_of(world.tenant) == before + 1

    # That answer was lost too (the worker died after its commit): the next retry replays it.
    again = case.client.post(case.path, case.body(1), format="json", **{KEY: "crash"})
    assert again["Idempotent-Replayed"] == "true"
    assert again.status_code == retry.status_code and again.content == retry.content
    assert customers_of(world.tenant) == before + 1


@pytest.mark.django_db(transaction=True)
def test_a_request_whose_claim_was_taken_over_rolls_back_and_answers_409(world):
    # The request outlived the lock timeout, and a retry took its claim over (and runs the
    # view itself): the late request's writes must not be committed beside the retry's.
    case = _case("store", world)
    from stores import services

    original = services.store_customer_create

    def slow_then_taken_over(*args, **kwargs):
        result = original(*args, **kwargs)
        IdempotencyRecord.objects.filter(key="late").delete()  # as the retry's takeover does
        return result

    before = customers_of(world.tenant)
    with mock.patch.object(services, "store_customer_create", side_effect=slow_then_taken_over):
        late = case.client.post(case.path, case.body(1), format="json", **{KEY: "late"})
    assert late.status_code == 409
    assert late["Retry-After"] == "1"
    assert customers_of(world.tenant) == before


def test_a_server_error_after_a_write_leaves_nothing_for_the_retry_to_duplicate(world):
    # The key is released on a 5xx, so the retry runs the view again: whatever the failed run
    # wrote must be gone (a store customer has no unique field to stop a second one).
    case = _case("store", world)
    case.client.raise_request_exception = False
    before = customers_of(world.tenant)
    with mock.patch(
        "stores.api.views.StoreCustomerCreatedSerializer", side_effect=RuntimeError("boom")
    ):
        failed = case.client.post(case.path, case.body(1), format="json", **{KEY: "half"})
    assert failed.status_code == 500
    assert customers_of(world.tenant) == before
    retried = case.client.post(case.path, case.body(1), format="json", **{KEY: "half"})
    assert retried.status_code == 200 and not retried.has_header("Idempotent-Replayed")
    assert customers_of(world.tenant) == before + 1
