"""The hub's own edge (``/api/auth/…`` and anything outside the four dialects).

Errors: ``{"message", "code", "errors"?, "requestId"}``.
"""

import re

from tenants.api.dialect import Dialect, register


class HubDialect(Dialect):
    name = "hub"
    path_pattern = re.compile(r"^/api/auth(/|$)")


HUB = register(HubDialect())


def exception_handler(exc, context):
    """Default DRF handler (settings.REST_FRAMEWORK): the hub's envelope."""
    return HUB.exception_handler(exc, context)
