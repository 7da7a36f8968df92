"""Authentication: Bearer (user tokens and API keys), bare/Basic API keys, session + CSRF.

Accepted credentials (DESIGN.md §3):
- ``Authorization: Bearer <token>``: a user token issued by ``POST /api/auth/token``
  (django-rest-knox: hashed at rest, expiring, revocable) or a tenant API key (``chk_…``).
- ``Authorization: <key>``: a tenant API key as the bare header value (peppered clients).
- ``Authorization: Basic base64(<key>:)``: a tenant API key as the user name, empty password.
- The Django session cookie, with CSRF enforced on unsafe methods.
"""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, get_authorization_header

from tenants.models import ApiKey, hash_secret


class ApiKeyUser:
    """The principal of a request made with a tenant API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_superuser = False
    is_staff = False
    pk = None
    id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.username = f"apikey:{api_key.prefix}"

    def __str__(self):
        return self.username

    def get_username(self):
        return self.username


def _is_api_key(value: str) -> bool:
    return value.startswith(settings.HUB_API_KEY_PREFIX)


def authenticate_api_key(secret: str):
    if len(secret) > 200:
        raise exceptions.AuthenticationFailed("Invalid API key.")
    key = (
        ApiKey.objects.select_related("tenant")
        .filter(secret_hash=hash_secret(secret), revoked_at__isnull=True)
        .first()
    )
    if key is None or not key.tenant.is_active:
        raise exceptions.AuthenticationFailed("Invalid API key.")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return ApiKeyUser(key), key


class BearerAuthentication(KnoxTokenAuthentication):
    """``Authorization: Bearer <user token | API key>``."""

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != b"bearer":
            return None
        if len(auth) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header.")
        try:
            token = auth[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        if _is_api_key(token):
            return authenticate_api_key(token)
        if len(token) > 200:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return self.authenticate_credentials(auth[1])

    def authenticate_header(self, request):
        return 'Bearer realm="api"'

    def _cleanup_token(self, auth_token) -> bool:
        """Whether ``auth_token`` has expired (it is then deleted and refused).

        Knox's own version also loads every other token of the user, on every request, to
        delete the expired ones: a query whose cost grows with the user's logins. Expired
        tokens are deleted when the user is issued a new one (tenants.services)."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class ApiKeyAuthentication:
    """A tenant API key as the bare ``Authorization`` value or as HTTP Basic user name."""

    def authenticate(self, request):
        raw = get_authorization_header(request)
        if not raw:
            return None
        try:
            header = raw.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid Authorization header.") from exc
        if _is_api_key(header) and " " not in header:
            return authenticate_api_key(header)
        parts = header.split()
        if len(parts) == 2 and parts[0].lower() == "basic":
            try:
                decoded = base64.b64decode(parts[1], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise exceptions.AuthenticationFailed("Invalid Basic credentials.") from exc
            username, _, _password = decoded.partition(":")
            if _is_api_key(username):
                return authenticate_api_key(username)
            raise exceptions.AuthenticationFailed(
                "Basic authentication takes a tenant API key as the user name."
            )
        return None

    def authenticate_header(self, request):
        return 'Basic realm="api"'


class CsrfSessionAuthentication(SessionAuthentication):
    """Django session cookie; DRF enforces the CSRF token on unsafe methods."""
