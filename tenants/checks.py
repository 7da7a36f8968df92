"""The project's own ``manage.py check`` messages (``--deploy`` ones run only with it)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def limits_shared_across_processes(app_configs, **kwargs):
    """Rate limits and lockouts counted per process let N workers through N times over."""
    from tenants import throttling

    try:
        shared = throttling.limits_are_shared()
    except ValueError as exc:
        return [Error(str(exc), id="tenants.E001")]
    if shared:
        return []
    return [
        Warning(
            "Rate limits and login lockouts are counted per process: with several workers "
            "each counts alone (HUB_LIMITS_STORE=cache on a "
            f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}).",
            hint="Set REDIS_URL, or HUB_LIMITS_STORE=database to share them through the "
            "database, or run exactly one process.",
            id="tenants.W001",
        )
    ]
