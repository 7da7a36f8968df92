"""The stores app's error codes (stable in the wire format; tenants/error_codes.py)."""

from enum import StrEnum


class StoreErrorCode(StrEnum):
    MISSING_STORE = "missing_store"
    INVALID_STORE = "invalid_store"
    ALREADY_LINKED = "already_linked"
