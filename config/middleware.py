"""Request-id, observation and dialect error middleware (no business logic)."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connections
from django.http import Http404, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject, empty

from tenants import metrics
from tenants.api.dialect import dialect_for_path
from tenants.context import (
    RequestIdLogFilter,  # noqa: F401  (LOGGING's filter, config/settings.py)
    current_request_id,
    current_tenant,
    request_id_bound,
)
from tenants.logs import log_request

logger = logging.getLogger("hub.request")


class RequestIdMiddleware:
    """Echo a sane incoming X-Request-ID, or make one; put it on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_id_bound(request.headers.get("X-Request-ID", "")) as request_id:
            request.request_id = request_id
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


#: the route of a request that matched no URL pattern (a 404, or answered before routing)
UNMATCHED = "<unmatched>"
#: the route of the static files WhiteNoise serves (before any URL pattern is tried)
STATIC = "<static>"


def _route(request) -> str:
    """The URL pattern that matched (``api/data/customer/<str:id>``), never the path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return STATIC
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return UNMATCHED
    return match.route or UNMATCHED


def _actor(request) -> tuple[str, str | None]:
    """(kind, row id) of the caller: ``api_key`` and the key's id, ``user`` and the user's
    id, ``anonymous``; never a credential. A user nobody asked for stays unasked (no
    session lookup just for the log)."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        if user._wrapped is empty:
            return "anonymous", None
        user = user._wrapped
    api_key = getattr(user, "api_key", None)
    if api_key is not None:
        return "api_key", str(api_key.pk)
    if user is not None and getattr(user, "is_authenticated", False):
        return "user", str(user.pk)
    return "anonymous", None


class _QueryCounter:
    """Counts the statements run on every database connection of this thread."""

    def __init__(self):
        self.count = 0
        self._connections = [connections[alias] for alias in connections]
        for connection in self._connections:
            connection.execute_wrappers.append(self)

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def stop(self) -> int:
        for connection in self._connections:
            if self in connection.execute_wrappers:
                connection.execute_wrappers.remove(self)
        return self.count


class RequestObservationMiddleware:
    """One log line and the request metrics per request (tenants/logs.py, tenants/metrics.py).

    A streamed answer is observed when its last byte is sent (its statements, its size and
    its duration include the stream)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        counter = _QueryCounter()
        metrics.in_flight.inc()
        try:
            response = self.get_response(request)
        except BaseException:
            counter.stop()
            metrics.in_flight.dec()
            raise
        context = (started, counter, current_request_id(), current_tenant())
        length = response.get("Content-Length")
        if length is not None:
            self._finish(request, response, context, int(length))
        elif not response.streaming:
            self._finish(request, response, context, len(response.content))
        elif not response.is_async:
            response.streaming_content = self._counted(
                response.streaming_content, request, response, context
            )
        else:  # an async stream under ASGI: observed now, its size unknown
            self._finish(request, response, context, 0)
        return response

    def _counted(self, chunks, request, response, context):
        size = 0
        try:
            for chunk in chunks:
                size += len(chunk)
                yield chunk
        finally:
            self._finish(request, response, context, size)

    def _finish(self, request, response, context, size: int) -> None:
        started, counter, request_id, tenant = context
        queries = counter.stop()
        metrics.in_flight.dec()
        seconds = time.perf_counter() - started
        try:
            dialect = dialect_for_path(request.path)
            dialect_name = dialect.name if dialect is not None else "none"
            route = _route(request)
            actor_kind, actor_id = _actor(request)
            metrics.observe_request(
                dialect=dialect_name,
                route=route,
                method=request.method,
                status=response.status_code,
                seconds=seconds,
                queries=queries,
                tenant=tenant,
                replayed=response.get("Idempotent-Replayed") == "true",
            )
            log_request(
                request_id=request_id,
                method=metrics.method_label(request.method),
                route=route,
                status=response.status_code,
                duration_ms=round(seconds * 1000, 1),
                dialect=dialect_name,
                tenant=tenant,
                actor_kind=actor_kind,
                actor_id=actor_id,
                bytes=size,
                queries=queries,
            )
        except Exception:  # the answer matters more than its observation
            logger.exception("Could not observe the request")


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
