"""The customers app's error codes (stable in the wire format; tenants/error_codes.py)."""

from enum import StrEnum


class CustomerErrorCode(StrEnum):
    CUSTOMER_NOT_FOUND = "customer_not_found"
    EMAIL_TAKEN = "email_taken"
    DISCORD_ID_TAKEN = "discord_id_taken"
    USER_TAKEN = "user_taken"
    INVALID_USER = "invalid_user"
    ADDRESS_EXISTS = "address_exists"
    ADDRESS_NOT_FOUND = "address_not_found"
    UNKNOWN_CLIENT_TYPE = "unknown_client_type"
    CLIENT_TYPE_EXISTS = "client_type_exists"
    FORMULA_CELL = "formula_cell"
    DUPLICATE_PAIR_NOT_FOUND = "duplicate_pair_not_found"
    DUPLICATE_PAIR_MERGED = "duplicate_pair_merged"
