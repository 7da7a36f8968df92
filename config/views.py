from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from tenants import metrics as hub_metrics
from tenants import readiness

#: the documentation pages may load only from this server: their bundles come from the
#: sidecar's static files, and the browser refuses anything else (Redoc's footer links an
#: image on a CDN that no setting turns off; drf-spectacular's page linked Google Fonts).
#: Inline scripts and styles are the pages' own (the init script, the bundles' styles).
DOCS_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-ancestors 'self'",
    )
)


class _OnlyThisServer:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CSP
        return response


class SwaggerView(_OnlyThisServer, SpectacularSwaggerView):
    """Swagger UI at /api/docs/, from this server only."""


class RedocView(_OnlyThisServer, SpectacularRedocView):
    """Redoc at /api/redoc/, from this server only (templates/drf_spectacular/redoc.html)."""


@require_GET
def healthz(request):
    """200 after a database round-trip; 503 when the database cannot be reached."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
def readyz(request):
    """200 when every readiness check passes (tenants/readiness.py: the database, the cache,
    the registered ones); 503 naming the failing ones."""
    results = readiness.run_checks()
    failing = [name for name, result in results.items() if result["status"] != "ok"]
    body = {"status": "failing" if failing else "ok", "checks": results}
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)


@require_GET
def metrics(request):
    """The Prometheus exposition (tenants/metrics.py), for a scraper with the bearer token
    and from an allowed address (``HUB_METRICS_TOKEN``, ``HUB_METRICS_ALLOW``)."""
    if not hub_metrics.scrape_allowed(request):
        response = HttpResponse("Forbidden\n", status=403, content_type="text/plain")
        if hub_metrics.protected():
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    content, content_type = hub_metrics.exposition()
    response = HttpResponse(content, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
