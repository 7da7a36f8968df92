"""The per-dialect error translation hook (DESIGN.md §6).

Every error, whatever raised it (a ``DomainError`` from a service, a DRF ``APIException``
from parsing or authentication, Django's ``Http404``, an oversized body, or an unexpected
exception), is first described as one ``ErrorInfo``. A dialect then only supplies
``render_error(info) -> dict``: its envelope. The same description is used by DRF's
exception handler (errors inside a view) and by ``config.middleware.DialectErrorMiddleware``
(unknown URLs under a dialect's prefix and unhandled exceptions), so a client of a dialect
never sees another dialect's, or Django's, error format.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from tenants import errors
from tenants.db import database_unreachable

logger = logging.getLogger("hub.api")

#: seconds a client is told to wait (``Retry-After``) while the database cannot be reached
DATABASE_RETRY_AFTER = 5


@dataclass
class ErrorInfo:
    status: int
    code: str
    message: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    request_id: str = ""


def _flatten(detail, prefix="") -> dict[str, list[str]]:
    """DRF's nested error detail -> {"field.sub": ["message", ...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and not prefix:
                name = "non_field_errors"
            for k, v in _flatten(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                name = f"{prefix}.{index}" if prefix else str(index)
                for k, v in _flatten(item, name).items():
                    out.setdefault(k, []).extend(v)
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _first_message(fields: dict[str, list[str]], fallback: str) -> str:
    for name, messages in fields.items():
        if messages:
            if name in ("non_field_errors", ""):
                return messages[0]
            return f"{name}: {messages[0]}"
    return fallback


def describe_exception(exc: BaseException) -> ErrorInfo | None:
    """Describe a known exception; ``None`` means unexpected (answer a generic 500)."""
    if isinstance(exc, errors.DomainError):
        return ErrorInfo(exc.status, exc.code, exc.message, dict(exc.fields))
    if database_unreachable(exc):
        return ErrorInfo(
            503,
            "service_unavailable",
            "The service is temporarily unavailable; retry in a few seconds.",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )
    if isinstance(exc, drf.ValidationError):
        fields = _flatten(exc.detail)
        return ErrorInfo(
            400, "validation_error", _first_message(fields, "Invalid input."), fields=fields
        )
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return ErrorInfo(401, "unauthenticated", str(exc.detail))
    if isinstance(exc, drf.Throttled):
        headers = {"Retry-After": str(int(exc.wait))} if exc.wait else {}
        return ErrorInfo(429, "throttled", str(exc.detail), headers=headers)
    if isinstance(exc, drf.ParseError):
        return ErrorInfo(400, "malformed_request", f"Malformed request body: {exc.detail}")
    if isinstance(exc, drf.UnsupportedMediaType):
        return ErrorInfo(
            415, "unsupported_media_type", f"{exc.detail} Send Content-Type: application/json."
        )
    if isinstance(exc, drf.MethodNotAllowed):
        return ErrorInfo(405, "method_not_allowed", str(exc.detail))
    if isinstance(exc, drf.NotAcceptable):
        return ErrorInfo(406, "not_acceptable", str(exc.detail))
    if isinstance(exc, drf.PermissionDenied | DjangoPermissionDenied):
        detail = getattr(exc, "detail", None) or str(exc) or errors.PermissionDenied.default_message
        return ErrorInfo(403, "forbidden", str(detail))
    if isinstance(exc, drf.NotFound | Http404):
        return ErrorInfo(404, "not_found", "Not found.")
    if isinstance(exc, RequestDataTooBig):
        return ErrorInfo(413, "payload_too_large", "The request body is too large.")
    if isinstance(exc, SuspiciousOperation):
        return ErrorInfo(400, "bad_request", "Bad request.")
    if isinstance(exc, drf.APIException):
        return ErrorInfo(exc.status_code, exc.default_code, str(exc.detail))
    return None


class Dialect:
    """A dialect's edge: its name, URL prefix pattern and error envelope."""

    name = "auth"
    path_pattern: re.Pattern | None = None
    validation_status = 400
    #: the OpenAPI component that describes ``render_error``'s output (by default the auth
    #: endpoints' envelope, tenants/api/base.py)
    error_component = "AuthError"
    #: statuses every operation of the dialect may answer (added to the document by
    #: tenants.schema.add_common_errors); the validation status is added too.
    common_statuses = (400, 401, 403, 405, 413, 415, 429, 500, 503)

    def caller_access(self, request, view_kwargs: dict):
        """Resolve the caller's access to the tenant (and store) the request names, for
        reading (tenants.access), or raise its 400/403; the hub has no tenant."""
        return None

    def error_schema(self) -> dict:
        """JSON Schema of ``render_error``'s output (for the OpenAPI document)."""
        return {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "code": {"type": "string"},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "requestId": {"type": "string"},
            },
            "required": ["message", "code", "requestId"],
        }

    def render_error(self, info: ErrorInfo) -> dict:
        body = {"message": info.message, "code": info.code}
        if info.fields:
            body["errors"] = info.fields
        body["requestId"] = info.request_id
        return body

    def error_info(self, exc: BaseException, request) -> ErrorInfo:
        info = describe_exception(exc)
        if info is None:
            logger.exception("Unhandled exception", exc_info=exc)
            info = ErrorInfo(500, "server_error", "An unexpected error occurred.")
        elif info.status == 503:
            logger.error("The database cannot be reached: answered 503", exc_info=exc)
        if info.code == "validation_error" and info.status == 400:
            info.status = self.validation_status
        if info.status == 401:
            info.headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
        info.request_id = getattr(request, "request_id", "") if request is not None else ""
        return info

    # DRF's hook, used by every view of the dialect (see DialectAPIView).
    def exception_handler(self, exc, context):
        request = context.get("request")
        info = self.error_info(exc, request)
        return Response(self.render_error(info), status=info.status, headers=info.headers)

    # Outside DRF (middleware): unknown URLs, errors raised before a view runs.
    def json_response(self, exc, request) -> JsonResponse:
        info = self.error_info(exc, request)
        response = JsonResponse(self.render_error(info), status=info.status)
        for key, value in info.headers.items():
            response[key] = value
        return response


def iso_timestamp(value: datetime | None) -> str | None:
    """A timestamp as DRF's ``DateTimeField`` writes it with ``TIME_ZONE = "UTC"`` (ISO 8601
    in UTC, ``Z``, microseconds when there are any), without its per-value time zone lookup:
    for the output of many records (tenants.api.compiled; tests compare it with DRF's)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _number(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    return Decimal(value)


def same_json(sent, shown) -> bool:
    """Whether a JSON value a client sent is the value a dialect shows: numbers by value
    (``7.3`` is ``7.30``), ``true`` never ``1``, objects and arrays item by item."""
    if isinstance(sent, dict) and isinstance(shown, dict):
        return sent.keys() == shown.keys() and all(same_json(sent[k], shown[k]) for k in sent)
    if isinstance(sent, list) and isinstance(shown, list | tuple):
        return len(sent) == len(shown) and all(map(same_json, sent, shown))
    a, b = _number(sent), _number(shown)
    if a is not None or b is not None:
        return a is not None and b is not None and a == b
    return type(sent) is type(shown) and sent == shown


def changes(data, shown: dict):
    """A request body without the fields whose value is the one the record shows now.

    Every dialect's update runs its body through this first, so that a record read with
    GET can be sent back as it is: a field sent with the value the record already shows is
    no change, so it is neither validated again (a value stored before a rule existed, or
    by another dialect with a looser one, is not refused) nor written (``updated_at`` does
    not move when nothing changes). A body that is not an object is returned as it is, for
    the serializer to refuse.
    """
    if not isinstance(data, dict):
        return data
    return {
        name: value
        for name, value in data.items()
        if name not in shown or not same_json(value, shown[name])
    }


_REGISTRY: list[Dialect] = []


def register(dialect: Dialect) -> Dialect:
    if dialect not in _REGISTRY:
        _REGISTRY.append(dialect)
    return dialect


def registered_dialects() -> list[Dialect]:
    return list(_REGISTRY)


def _load_dialects() -> None:
    """Dialects register when their ``api/base.py`` is imported, which the URL configuration
    does: load it before the first lookup, so middleware that answers before any view (the
    front's 413, an idempotent replay) knows every dialect in a fresh process."""
    global _LOADED
    if not _LOADED:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018  (imports every dialect's views)
        _LOADED = True


_LOADED = False


def dialect_for_path(path: str) -> Dialect | None:
    _load_dialects()
    for dialect in _REGISTRY:
        if dialect.path_pattern is not None and dialect.path_pattern.match(path):
            return dialect
    return None


#: request attribute: a stored answer (an idempotent replay, or its 409 or 422) that the view
#: gives instead of running, once the caller is authenticated (tenants/idempotency.py)
PENDING_ANSWER = "hub_pending_answer"


class StoredAnswer(Exception):
    def __init__(self, response):
        super().__init__("stored answer")
        self.response = response


class DialectViewMixin:
    """Mix into a DRF view: errors are rendered in ``self.dialect``'s envelope."""

    dialect: Dialect

    def get_exception_handler(self):
        return self.dialect.exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        answer = getattr(request._request, PENDING_ANSWER, None)
        if answer is not None:
            # A stored answer goes only to a caller that may still use the tenant (a revoked
            # credential got its 401 above; a lost membership gets its 403 here).
            self.dialect.caller_access(request, kwargs)
            raise StoredAnswer(answer)

    def handle_exception(self, exc):
        if isinstance(exc, StoredAnswer):
            return exc.response
        return super().handle_exception(exc)

    def perform_authentication(self, request):
        try:
            super().perform_authentication(request)
        except drf.AuthenticationFailed:
            # A refused credential still counts against the API rate, on the client address
            # (request.user is anonymous now): DRF's own throttles run only after a
            # successful authentication, so guessing keys and tokens would be unlimited.
            self.check_throttles(request)
            raise
