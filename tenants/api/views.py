"""Authentication endpoints: session login/logout, Bearer tokens, who am I."""

from django.contrib.auth import login, logout
from django.middleware.csrf import get_token
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import errors, services, throttling
from tenants.api.base import AUTH
from tenants.api.dialect import DialectViewMixin
from tenants.api.serializers import (
    CsrfSerializer,
    LoginSerializer,
    MeSerializer,
    MessageSerializer,
    TokenSerializer,
)
from tenants.authentication import ApiKeyUser, CsrfSessionAuthentication
from tenants.selectors import memberships_for_user, stores_reachable

ERRORS: dict = {}  # generic errors are added by tenants.schema.add_common_errors


class AuthView(DialectViewMixin, APIView):
    dialect = AUTH


def _check_password(request, data) -> object:
    serializer = LoginSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    # The rates and the lockout (429 + Retry-After), shared with the admin's login.
    user = throttling.authenticate_password(
        request,
        username=serializer.validated_data["username"],
        password=serializer.validated_data["password"],
    )
    if user is None:
        raise errors.AuthenticationRequired("Invalid username or password.")
    return user


def me_payload(user) -> dict:
    if isinstance(user, ApiKeyUser):
        key = user.api_key
        tenants = [
            {
                "id": key.tenant.id,
                "slug": key.tenant.slug,
                "name": key.tenant.name,
                "role": key.role,
            }
        ]
        stores = stores_reachable(api_key=key)
        return {
            "id": None,
            "username": user.username,
            "isSuperuser": False,
            "tenants": tenants,
            "stores": stores,
        }
    memberships = list(memberships_for_user(user=user))
    tenants = [
        {"id": m.tenant.id, "slug": m.tenant.slug, "name": m.tenant.name, "role": m.role}
        for m in memberships
    ]
    stores = stores_reachable(memberships=memberships, user=user)
    return {
        "id": user.pk,
        "username": user.get_username(),
        "isSuperuser": user.is_superuser,
        "tenants": tenants,
        "stores": stores,
    }


class CsrfView(AuthView):
    """The CSRF token a browser (or any session client) sends with its login and writes."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["auth"],
        responses={200: CsrfSerializer, **ERRORS},
        auth=[],
        summary="Get a CSRF token (before POST /api/auth/login)",
        description="Sets the `csrftoken` cookie and answers the same token. Session login "
        "(`POST /api/auth/login`) and every write made with the session cookie need it as "
        "the `X-CSRFToken` header, with the cookie; over HTTPS the request also needs an "
        "`Origin` or `Referer` of this site. Machines use `POST /api/auth/token` instead "
        "(no cookies, no CSRF).",
    )
    def get(self, request):
        return Response({"csrfToken": get_token(request)})


class LoginView(AuthView):
    """Start a Django session (cookie ``sessionid``, plus ``csrftoken`` for later writes)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = throttling.LOGIN_THROTTLES

    @extend_schema(
        tags=["auth"],
        request=LoginSerializer,
        responses={200: MeSerializer, **ERRORS},
        auth=[],
        summary="Log in with a password (session cookie)",
        description="Needs the CSRF token of `GET /api/auth/csrf` (header `X-CSRFToken`, "
        "with its `csrftoken` cookie): without it a cross-site page could log a browser in "
        "as someone else (login CSRF), and the answer is a 403.",
    )
    def post(self, request):
        # DRF exempts its views from Django's CSRF middleware and checks CSRF only when a
        # session authenticates the request; a login has no session yet, so check it here.
        CsrfSessionAuthentication().enforce_csrf(request)
        user = _check_password(request, request.data)
        login(request, user)
        get_token(request)
        return Response(MeSerializer(me_payload(user)).data)


class LogoutView(AuthView):
    @extend_schema(
        tags=["auth"],
        request=None,
        responses={200: MessageSerializer, **ERRORS},
        summary="End the session",
    )
    def post(self, request):
        logout(request)
        return Response({"message": "Logged out."})


class TokenView(AuthView):
    """Issue a Bearer token for a username and password, or revoke the one in use."""

    throttle_classes = throttling.LOGIN_THROTTLES

    def get_authenticators(self):
        if self.request is not None and self.request.method == "POST":
            return []
        return super().get_authenticators()

    def get_permissions(self):
        if self.request is not None and self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    @extend_schema(
        tags=["auth"],
        request=LoginSerializer,
        responses={201: TokenSerializer, **ERRORS},
        auth=[],
        summary="Issue a Bearer token",
    )
    def post(self, request):
        user = _check_password(request, request.data)
        instance, token = services.user_token_issue(user=user)
        return Response(
            {"token": token, "tokenType": "Bearer", "expiresAt": instance.expiry},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        tags=["auth"],
        request=None,
        responses={200: MessageSerializer, **ERRORS},
        summary="Revoke the Bearer token used for this request",
    )
    def delete(self, request):
        if not isinstance(request.auth, AuthToken):
            raise errors.BadRequest("Only a Bearer user token can be revoked this way.")
        services.user_token_revoke(token=request.auth)
        return Response({"message": "Token revoked."})


class MeView(AuthView):
    @extend_schema(
        tags=["auth"],
        responses={200: MeSerializer, **ERRORS},
        summary="The caller: user id, username, tenants with roles, stores",
    )
    def get(self, request):
        return Response(MeSerializer(me_payload(request.user)).data)
