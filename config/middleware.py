"""Request-id and dialect error middleware (no business logic)."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse
from django.utils.cache import patch_cache_control

from tenants.api.dialect import dialect_for_path

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdLogFilter(logging.Filter):
    def filter(self, record):
        record.request_id = _request_id.get()
        return True


class RequestIdMiddleware:
    """Echo a sane incoming X-Request-ID, or make one; put it on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class ApiNoStoreMiddleware:
    """``Cache-Control: no-store`` on every response under a dialect's prefix: records,
    tokens and errors are personal data that no browser, proxy or CDN may keep. Listed right
    after RequestIdMiddleware, so answers made by later middleware (idempotent replays, the
    dialects' 404s) and streamed lists carry it too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if dialect_for_path(request.path) is not None:
            patch_cache_control(response, no_store=True)
        return response


class ProxyBodyLimitMiddleware:
    """A body nginx refused as too large (deploy/nginx/customer-hub.conf): nginx passes the
    request on without its body and with ``X-Hub-Body-Too-Large``, so the client still gets
    the 413 in its dialect's format. Without nginx the header only refuses its own sender."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.META.get("HTTP_X_HUB_BODY_TOO_LARGE"):
            return self.get_response(request)
        dialect = dialect_for_path(request.path)
        if dialect is not None:
            return dialect.json_response(RequestDataTooBig(), request)
        return HttpResponse(
            "The request body is too large.\n", status=413, content_type="text/plain"
        )


class DialectErrorMiddleware:
    """Under a dialect's prefix, answer unknown URLs and unhandled exceptions in its format."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 404 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            dialect = dialect_for_path(request.path)
            if dialect is not None:
                return dialect.json_response(Http404(), request)
        return response

    def process_exception(self, request, exception):
        dialect = dialect_for_path(request.path)
        if dialect is None:
            return None
        return dialect.json_response(exception, request)
