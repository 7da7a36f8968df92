"""``Idempotency-Key`` for every POST of the four dialects (Stripe's contract, and the IETF
draft "The Idempotency-Key HTTP Header Field").

A client that may retry a POST (a timeout, a dropped connection) sends a key of its choice,
at most 255 printable ASCII characters, and the same key on every retry:

- the first request with a key inserts an ``IdempotencyRecord`` in state ``started`` (its own
  transaction, committed at once: the unique constraint on (scope, key) makes exactly one
  concurrent request the owner); then the view, the rendering of its response and the update
  of the record to ``completed`` (status, the response headers a client needs, the body) run
  in **one transaction**, so a write is never committed without its stored answer: a worker
  that dies before that commit leaves nothing but its claim, which the lock timeout releases;
  the record keeps a fingerprint of the request (content type, query string and body; JSON
  bodies are compared after canonicalisation, so key order and whitespace do not matter);
- a retry with the same key and the same request within ``HUB_IDEMPOTENCY_TTL_HOURS`` (24)
  replays the stored status and body, with ``Idempotent-Replayed: true`` and
  ``Original-Request-Id``; the view does not run again, so nothing is written twice;
- every answer drawn from a stored record (the replay, and the 422 and 409 below) is given
  only after the view's own authentication, permissions, throttles and tenant access have
  passed (``DialectViewMixin.initial``): a revoked token or API key, a deleted or deactivated
  user, a session without its CSRF token get the 401 or 403 they would get without the key,
  and a caller that lost the tenant (or store) gets its 403;
- the same key with a different request: **422** ``idempotency_key_reused`` (the IETF draft's
  status; Stripe answers 400), in the dialect's own error format;
- the same key while the first request is still running: **409**
  ``idempotency_request_in_progress`` with ``Retry-After: 1``;
- the scope of a key is (tenant reference as sent: ``x-tenant-id``, ``x-store-id`` or the
  peppered client name in the path; credential: a hash of the ``Authorization`` value, or the
  session's user id; method; path): another credential, tenant or route never sees a record;
- only results the view produced are kept: streamed bodies, unresolved URLs and results that
  a retry may legitimately change (401, 403, 408, 409, 425, 429) delete the record, so the key
  can be retried; a 5xx rolls back whatever the view wrote and releases the key (Stripe does
  not store 5xx either), so a retry starts from a clean state;
- a request whose claim was taken over while it still ran (it outlived the lock timeout) rolls
  back its writes and answers 409, since the request that took over runs the view itself;
- requests without credentials are not recorded (the view answers 401 anyway), nor are the
  authentication endpoints under ``/api/auth/`` (a replay would hand out a stored token or
  skip the session cookie);
- expired records are deleted when their key is met again, and in bulk by
  ``python manage.py purge_idempotency_keys`` (run it daily).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from tenants import errors, metrics
from tenants.api import parsers
from tenants.api.dialect import PENDING_ANSWER, DialectViewMixin, dialect_for_path
from tenants.error_codes import ErrorCode
from tenants.models import IdempotencyRecord
from tenants.transactions import concurrent_change

logger = logging.getLogger("hub.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
ORIGINAL_REQUEST_HEADER = "Original-Request-Id"
MAX_KEY_LENGTH = 255
KEY_PATTERN = r"^[!-~](?:[ -~]{0,253}[!-~])?$"
_KEY_RE = re.compile(KEY_PATTERN)
#: dialects whose POSTs take the header (the /api/auth/ endpoints do not)
EXCLUDED_DIALECTS = frozenset({"auth"})
#: results that are not kept: the retry may legitimately get another answer
NOT_STORED = frozenset({401, 403, 408, 409, 425, 429})
#: response headers replayed with the stored body
KEPT_HEADERS = ("Content-Type", "Location", "Link", "X-Next-Cursor", "Cache-Control")


def ttl() -> timedelta:
    return timedelta(hours=float(getattr(settings, "HUB_IDEMPOTENCY_TTL_HOURS", 24)))


def lock_timeout() -> timedelta:
    """A ``started`` record older than this belongs to a request that died: it is taken over."""
    return timedelta(seconds=float(getattr(settings, "HUB_IDEMPOTENCY_LOCK_SECONDS", 60)))


class IdempotencyKeyReused(errors.DomainError):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED
    status = 422
    default_message = (
        "This Idempotency-Key was already used with a different request; use a new key for a "
        "new request."
    )


class IdempotencyInProgress(errors.Conflict):
    code = ErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS
    default_message = (
        "A request with this Idempotency-Key is still being processed; retry in a moment."
    )


def _sha256(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def credential_fingerprint(request) -> str | None:
    """A hash of the Authorization value, or the session's user; None when anonymous."""
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if authorization:
        return "auth:" + _sha256(authorization)
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False) and user.pk is not None:
        return f"user:{user.pk}"
    return None


def tenant_reference(request) -> str:
    """The tenant as the client named it (the path carries peppered's client name)."""
    return "tenant={}|store={}".format(
        request.headers.get("x-tenant-id", "").strip(),
        request.headers.get("x-store-id", "").strip(),
    )


def request_scope(request, credential: str) -> str:
    return _sha256(tenant_reference(request), credential, request.method, request.path)


def request_fingerprint(request, body: bytes) -> str:
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    canonical = body
    if body and content_type.endswith("json"):
        try:
            parsed = parsers.loads(body)  # the API's own decoder: depth-limited
        except ValueError:  # malformed: fingerprinted as sent; the view answers the 400
            pass
        else:
            canonical = json.dumps(
                parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode("utf-8", "surrogatepass")
    return _sha256(content_type, request.META.get("QUERY_STRING", ""), canonical)


def applies_to(request) -> bool:
    if request.method != "POST":
        return False
    dialect = dialect_for_path(request.path)
    return dialect is not None and dialect.name not in EXCLUDED_DIALECTS


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body), status=record.status_code)
    for name, value in (record.response_headers or {}).items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    if record.request_id:
        response[ORIGINAL_REQUEST_HEADER] = record.request_id
    return response


def _error(request, exc: errors.DomainError, headers: dict | None = None) -> HttpResponse:
    response = dialect_for_path(request.path).json_response(exc, request)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _answer_existing(request, record: IdempotencyRecord, fingerprint: str):
    """The answer for a key that already has a live record (or None to start afresh)."""
    now = timezone.now()
    if record.expires_at <= now:
        IdempotencyRecord.objects.filter(pk=record.pk, expires_at__lte=now).delete()
        return None
    dialect = dialect_for_path(request.path).name
    if record.request_fingerprint != fingerprint:
        metrics.idempotency_refusals.labels(dialect, "key_reused").inc()
        return _error(
            request,
            IdempotencyKeyReused(fields={HEADER: [IdempotencyKeyReused.default_message]}),
        )
    if record.state == IdempotencyRecord.State.COMPLETED:
        return _replay(record)  # counted when sent (tenants.metrics.observe_request)
    if record.created_at <= now - lock_timeout():
        # The first request died without answering (a killed worker): release its claim.
        IdempotencyRecord.objects.filter(
            pk=record.pk, state=IdempotencyRecord.State.STARTED, created_at=record.created_at
        ).delete()
        return None
    metrics.idempotency_refusals.labels(dialect, "in_progress").inc()
    return _error(request, IdempotencyInProgress(), {"Retry-After": "1"})


def _claim(request, scope: str, key: str, fingerprint: str):
    """Insert the ``started`` record; returns (record, None) or (None, answer)."""
    for _attempt in range(3):
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is not None:
            answer = _answer_existing(request, existing, fingerprint)
            if answer is not None:
                return None, answer
            continue
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    scope=scope,
                    key=key,
                    method=request.method,
                    path=request.path,
                    request_fingerprint=fingerprint,
                    request_id=getattr(request, "request_id", "")[:128],
                    expires_at=timezone.now() + ttl(),
                )
        except IntegrityError:
            continue  # a concurrent request won the insert: answer as for an existing record
        return record, None
    return None, _error(request, IdempotencyInProgress(), {"Retry-After": "1"})


def _release(record: IdempotencyRecord) -> None:
    try:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
    except DatabaseError:  # the connection is broken: the lock timeout releases the claim
        logger.exception("Could not release Idempotency-Key record %s", record.pk)


def _store(record: IdempotencyRecord, response) -> bool:
    """Complete the claim with ``response``; False when the claim is no longer ours (it
    outlived the lock timeout and another request took it over)."""
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    return bool(
        IdempotencyRecord.objects.filter(
            pk=record.pk, state=IdempotencyRecord.State.STARTED
        ).update(
            state=IdempotencyRecord.State.COMPLETED,
            status_code=response.status_code,
            response_headers=headers,
            response_body=bytes(response.content),
            completed_at=timezone.now(),
        )
    )


def _storable(request, response) -> bool:
    return (
        getattr(request, "resolver_match", None) is not None
        and not getattr(response, "streaming", False)
        and response.status_code < 500
        and response.status_code not in NOT_STORED
    )


def _answered_by_the_view(request) -> bool:
    """Whether the view of ``request`` gives a stored answer after its own authentication
    (every dialect view does: ``DialectViewMixin.initial``)."""
    try:
        view_class = getattr(resolve(request.path_info).func, "cls", None)
    except Resolver404:
        return False
    return isinstance(view_class, type) and issubclass(view_class, DialectViewMixin)


class _ClaimTakenOver(Exception):
    pass


class IdempotencyMiddleware:
    """Settings' MIDDLEWARE, after authentication (the session user is part of the scope)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw_key = request.headers.get(HEADER)
        if raw_key is None or not applies_to(request):
            return self.get_response(request)
        key = raw_key.strip()
        if not _KEY_RE.match(key):
            message = (
                f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters "
                "(a UUID is a good choice)."
            )
            return _error(
                request,
                errors.ValidationError(
                    message, fields={HEADER: [message]}, code=ErrorCode.INVALID_IDEMPOTENCY_KEY
                ),
            )
        try:
            credential = credential_fingerprint(request)  # a session is read from the database
            if credential is None:
                return self.get_response(request)  # the view answers 401; nothing to remember
            try:
                body = request.body
            except RequestDataTooBig:
                return self.get_response(request)  # the view answers 413
            record, answer = _claim(
                request, request_scope(request, credential), key, request_fingerprint(request, body)
            )
        except Exception as exc:  # the database is down: a logged 503 or 500 in the dialect
            return dialect_for_path(request.path).json_response(exc, request)
        if answer is not None:
            if not _answered_by_the_view(request):  # pragma: no cover - every dialect view is
                return answer
            # The view authenticates the caller and checks its access to the tenant now,
            # then answers with this instead of running (DialectViewMixin.initial).
            setattr(request, PENDING_ANSWER, answer)
            return self.get_response(request)
        return self._run_once(request, record)

    def _run_once(self, request, record: IdempotencyRecord):
        """The view, its rendered response and the completed record: one transaction."""
        try:
            with transaction.atomic():
                response = self.get_response(request)  # rendered: Django renders in there
                stored = _storable(request, response)
                if stored:
                    if not _store(record, response):
                        raise _ClaimTakenOver
                elif response.status_code >= 500:
                    transaction.set_rollback(True)  # the key is released: nothing may stay
                else:
                    IdempotencyRecord.objects.filter(pk=record.pk).delete()
        except _ClaimTakenOver:
            metrics.idempotency_refusals.labels(
                dialect_for_path(request.path).name, "in_progress"
            ).inc()
            return _error(request, IdempotencyInProgress(), {"Retry-After": "1"})
        except Exception as exc:  # the commit failed (the database went away, a constraint)
            _release(record)
            if isinstance(exc, IntegrityError):  # a deferred foreign key, as service_atomic
                exc = concurrent_change(exc)
            return dialect_for_path(request.path).json_response(exc, request)
        except BaseException:
            _release(record)
            raise
        if not stored and response.status_code >= 500:
            _release(record)
        return response


def purge_expired(now=None) -> int:
    """Delete expired records; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


# --- OpenAPI ----------------------------------------------------------------------------------


def add_idempotency_key(result, generator, request, public):
    """Postprocessing hook (after tenants.schema.add_common_errors): every POST of the four
    dialects documents the ``Idempotency-Key`` header and its 409 and 422 answers."""
    from tenants.schema import ERROR_DESCRIPTIONS

    for path, operations in result.get("paths", {}).items():
        dialect = dialect_for_path(path)
        if dialect is None or dialect.name in EXCLUDED_DIALECTS or "post" not in operations:
            continue
        operation = operations["post"]
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("in") == "header" and p.get("name") == HEADER for p in parameters):
            parameters.append(
                {
                    "in": "header",
                    "name": HEADER,
                    "required": False,
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_KEY_LENGTH,
                        "pattern": KEY_PATTERN,
                    },
                    "description": (
                        "Makes a retry safe: a retry with the same key and the same body within "
                        "24 hours replays the first response (status and body, with "
                        "`Idempotent-Replayed: true`) without writing again, once the caller is "
                        "authenticated and may still use the tenant (a revoked credential gets "
                        "its 401). The view's writes and the stored response are committed "
                        "together. The same key with "
                        "another body is a 422; a retry while the first request runs is a 409. "
                        "Keys are scoped to the tenant, the credential and the route; 1 to 255 "
                        "printable ASCII characters (a UUID v4 is a good choice)."
                    ),
                }
            )
        ref = {"$ref": f"#/components/schemas/{dialect.error_component}"}
        responses = operation.setdefault("responses", {})
        for status, text in (
            ("409", "Conflict; or a request with the same Idempotency-Key is still running."),
            (
                "422",
                ERROR_DESCRIPTIONS["422"] + " Or the Idempotency-Key was used with another body.",
            ),
        ):
            responses.setdefault(
                status, {"description": text, "content": {"application/json": {"schema": ref}}}
            )
    return result
