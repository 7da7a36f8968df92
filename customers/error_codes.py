"""The customers app's error codes (stable in the wire format; tenants/error_codes.py)."""

from enum import StrEnum


class CustomerErrorCode(StrEnum):
    CUSTOMER_NOT_FOUND = "customer_not_found"
    EMAIL_TAKEN = "email_taken"
    DISCORD_ID_TAKEN = "discord_id_taken"
    USER_TAKEN = "user_taken"
    IDENTIFIER_TAKEN = "identifier_taken"
    IDENTITY_CONFLICT = "identity_conflict"
    INVALID_USER = "invalid_user"
    ADDRESS_EXISTS = "address_exists"
    ADDRESS_NOT_FOUND = "address_not_found"
    UNKNOWN_CLIENT_TYPE = "unknown_client_type"
    CLIENT_TYPE_EXISTS = "client_type_exists"
    FORMULA_CELL = "formula_cell"
    # privacy (customers/privacy.py)
    CONFIRMATION_REQUIRED = "confirmation_required"
    MERGED_AWAY = "merged_away"
    NOT_A_PERSON = "not_a_person"
    USER_SHARED = "user_shared"
    EXPORT_NOT_FOUND = "export_not_found"
    EXPORT_NOT_READY = "export_not_ready"
    # merges (customers/merging.py)
    MERGE_NOT_FOUND = "merge_not_found"
    MERGE_BLOCKED = "merge_blocked"
    MERGE_ALREADY_UNDONE = "merge_already_undone"
    MERGE_UNDO_BLOCKED = "merge_undo_blocked"
    CUSTOMER_MERGED = "customer_merged"
    CUSTOMER_ERASED = "customer_erased"
    # the duplicates' review queue (customers/duplicates.py)
    DUPLICATE_PAIR_NOT_FOUND = "duplicate_pair_not_found"
    DUPLICATE_PAIR_MERGED = "duplicate_pair_merged"
