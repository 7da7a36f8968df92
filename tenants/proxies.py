"""The client's address, trusting ``X-Forwarded-For`` only through the configured proxies.

``HUB_TRUSTED_PROXIES`` (an integer, default 0) is the number of reverse proxies in front of
the application that append the address they saw to ``X-Forwarded-For`` (nginx's
``$proxy_add_x_forwarded_for``; deploy/nginx/customer-hub.conf is one proxy). With 0, the
client is ``REMOTE_ADDR`` and the header is ignored; with N, the client is the N-th address
from the end of the header: everything to its left was written by the client itself and
proves nothing. The rate limits, the login lockout and the logs all take the address from
``client_ip`` (DRF's own ``NUM_PROXIES`` is set to the same number in config/settings.py).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def trusted_proxies() -> int:
    return max(0, int(getattr(settings, "HUB_TRUSTED_PROXIES", 0) or 0))


def client_ip(request) -> str:
    """The address of the client that sent ``request`` (a Django or DRF request)."""
    meta = request.META
    remote = meta.get("REMOTE_ADDR", "") or ""
    proxies = trusted_proxies()
    if proxies == 0:
        return remote
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if not hops:
        # Not through the proxy (a health check on the application's own port): the peer
        # is the client.
        return remote
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # A trusted proxy writes addresses only; anything else means the header did not come
        # from it, so it is not evidence of anything.
        return remote
