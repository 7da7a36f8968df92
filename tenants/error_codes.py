"""The shared kernel's error codes: the ``code`` of every dialect's error body, stable in the
wire format (each app has its own, e.g. customers/error_codes.py, as Saleor's do)."""

from enum import StrEnum


class ErrorCode(StrEnum):
    ERROR = "error"
    VALIDATION_ERROR = "validation_error"
    BAD_REQUEST = "bad_request"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    # a field's own rule broken, where a service checks it (DRF's names for them)
    REQUIRED = "required"
    BLANK = "blank"
    INVALID_CHOICE = "invalid_choice"
    INVALID_PHONE = "invalid_phone"
    MISSING_TENANT = "missing_tenant"
    INVALID_CURSOR = "invalid_cursor"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_REQUEST_IN_PROGRESS = "idempotency_request_in_progress"
    EVENT_NOT_FOUND = "event_not_found"
    UNSAFE_URL = "unsafe_url"
    SECRET_UNREADABLE = "secret_unreadable"
