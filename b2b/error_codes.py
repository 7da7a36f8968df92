"""The b2b app's error codes (stable in the wire format; tenants/error_codes.py)."""

from enum import StrEnum


class B2BErrorCode(StrEnum):
    CONTACT_NOT_FOUND = "contact_not_found"
    PRIMARY_CONTACT_CONFLICT = "primary_contact_conflict"
    ORDER_NOT_FOUND = "order_not_found"
    INVALID_TRANSITION = "invalid_transition"
    INVALID_PAYMENT = "invalid_payment"
