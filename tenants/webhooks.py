"""Webhooks' building blocks: which URLs may receive, the signing secrets (encrypted at rest),
the payload and its Standard Webhooks signature, and one HTTP attempt to a checked address.

The delivery pipeline that uses them is tenants/delivery.py; the writes are services in
tenants/services.py. See docs/webhooks.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from tenants import errors
from tenants.error_codes import ErrorCode

SECRET_PREFIX = "whsec_"
USER_AGENT = "customer-hub-webhooks/1"

# --- which URLs may receive -------------------------------------------------------------------

#: cloud metadata services outside the link-local range (AWS's IPv6, Alibaba's), named so
#: that no future "is_global" change can let them through
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("fd00:ec2::254", "100.100.100.200", "169.254.169.254")
)


class UnsafeUrl(errors.ValidationError):
    code = ErrorCode.UNSAFE_URL


def address_allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A public unicast address; a loopback one too when HUB_WEBHOOKS_ALLOW_LOOPBACK is on."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return False
    if ip.is_loopback:
        return bool(settings.HUB_WEBHOOKS_ALLOW_LOOPBACK)
    return ip.is_global and not ip.is_multicast


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (tests replace it: there is no DNS there)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address to connect to


def check_url(url: str) -> Target:
    """Where ``url`` may be delivered to, resolved and checked now; ``UnsafeUrl`` otherwise.

    https only; plain http only to loopback with HUB_WEBHOOKS_ALLOW_LOOPBACK on. Every address
    the name resolves to must be allowed (one private answer among public ones is refused),
    and the caller connects to the checked address itself, not to the name again (a DNS
    answer that changes between the check and the connection cannot redirect it)."""

    def refuse(message: str):
        return UnsafeUrl(f"url: {message}", fields={"url": [message]})

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise refuse("Not a valid URL.") from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise refuse("Use an https:// URL.")
    if parts.username is not None or parts.password is not None:
        raise refuse("A webhook URL may not carry credentials.")
    if parts.fragment:
        raise refuse("A webhook URL may not have a fragment.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    try:
        addresses = [str(literal)] if literal is not None else resolve_host(host, port)
    except (OSError, UnicodeError):
        raise refuse("The host name does not resolve.") from None
    if not addresses:
        raise refuse("The host name does not resolve.")
    ips = [ipaddress.ip_address(a.split("%")[0]) for a in addresses]
    if not all(address_allowed(ip) for ip in ips):
        raise refuse(
            "The URL leads to a loopback, private, link-local or otherwise reserved address."
        )
    if parts.scheme == "http" and not all(ip.is_loopback for ip in ips):
        raise refuse("Use an https:// URL.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, addresses[0])


# --- secrets ----------------------------------------------------------------------------------


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _fernet() -> MultiFernet:
    if settings.HUB_WEBHOOKS_ENCRYPTION_KEY:
        materials = [settings.HUB_WEBHOOKS_ENCRYPTION_KEY]
    else:
        materials = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    keys = [
        Fernet(
            base64.urlsafe_b64encode(
                hmac.new(m.encode(), b"customer-hub webhook secrets", hashlib.sha256).digest()
            )
        )
        for m in materials
    ]
    return MultiFernet(keys)


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise errors.Conflict(
            "The endpoint's secret cannot be decrypted with the configured key; rotate it.",
            code=ErrorCode.SECRET_UNREADABLE,
        ) from None


# --- the payload and its signature ------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def event_payload(event, tenant) -> dict:
    """The body of a delivery: the event exactly as the events API shows it
    (``GET /api/hub/events/{id}``), so that a receiver reads both with one parser."""
    from tenants.api.events import event_output

    return event_output(event, tenant)


def payload_bytes(payload: dict) -> bytes:
    """The JSON body, at most HUB_WEBHOOKS_MAX_PAYLOAD_BYTES: a larger event is sent without
    its ``data`` and ``previous_attributes`` and with ``"truncated": true`` (the receiver
    reads the whole event from the events API by its id)."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    if len(body) <= settings.HUB_WEBHOOKS_MAX_PAYLOAD_BYTES:
        return body
    slim = {**payload, "data": None, "previous_attributes": None, "truncated": True}
    return json.dumps(slim, separators=(",", ":"), ensure_ascii=False).encode()


def signature_header(secrets_: list[str], msg_id: str, timestamp: datetime, body: bytes) -> str:
    """``webhook-signature``: one ``v1,<base64>`` per secret, space-separated (the spec lets a
    receiver accept any of them, which is what makes a rotation overlap work)."""
    return " ".join(Webhook(s).sign(msg_id, timestamp, body) for s in secrets_)


# --- one HTTP attempt -------------------------------------------------------------------------


@dataclass
class Outcome:
    status_code: int | None
    latency_ms: int
    excerpt: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an already checked address, with SNI and certificate checks for the name."""

    def __init__(self, address: str, host: str, port: int, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, address: str, host: str, port: int, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str, body: bytes, headers: dict, *, timeout: float) -> Outcome:
    """POST ``body`` to ``url``: resolved and checked again now (DNS rebinding), connected to
    the checked address, every socket operation bounded by ``timeout``, at most
    ``WebhookAttempt.EXCERPT_CHARS`` of the answer read. Never raises for the receiver's
    faults: they are the outcome's ``error``."""
    from tenants.models import WebhookAttempt

    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = check_url(url)
    except UnsafeUrl as exc:
        return Outcome(None, elapsed(), error=exc.fields["url"][0][:255])
    cls = _CheckedHTTPSConnection if target.scheme == "https" else _CheckedHTTPConnection
    kwargs = {"timeout": timeout}
    if target.scheme == "https":
        kwargs["context"] = ssl.create_default_context()
    conn = cls(target.address, target.host, target.port, **kwargs)
    try:
        conn.request(
            "POST",
            target.path,
            body=body,
            headers={
                **headers,
                "content-type": "application/json",
                "user-agent": USER_AGENT,
            },
        )
        response = conn.getresponse()
        excerpt = response.read(WebhookAttempt.EXCERPT_CHARS).decode("utf-8", "replace")
        return Outcome(response.status, elapsed(), excerpt[: WebhookAttempt.EXCERPT_CHARS])
    except TimeoutError:
        return Outcome(None, elapsed(), error=f"timed out after {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(None, elapsed(), error=f"{type(exc).__name__}: {exc}"[:255])
    finally:
        conn.close()
