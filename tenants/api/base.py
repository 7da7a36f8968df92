"""The auth endpoints' edge (``/api/auth/…``, and any DRF view outside the dialects).

Errors: ``{"message", "code", "errors"?, "requestId"}``. (The hub's own API, ``/api/hub/``,
is another dialect: tenants/api/hub.py.)
"""

import re

from tenants.api.dialect import Dialect, register


class AuthDialect(Dialect):
    name = "auth"
    path_pattern = re.compile(r"^/api/auth(/|$)")
    error_component = "AuthError"


AUTH = register(AuthDialect())


def exception_handler(exc, context):
    """Default DRF handler (settings.REST_FRAMEWORK): the auth endpoints' envelope."""
    return AUTH.exception_handler(exc, context)
