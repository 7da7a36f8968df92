"""Domain error codes are enums, one per app (tenants/error_codes.py and its neighbours), and
their values are the wire format's: a client matches on them, so they never change."""

import ast
from pathlib import Path

from b2b.error_codes import B2BErrorCode
from customers.error_codes import CustomerErrorCode
from pricelists.error_codes import PriceListErrorCode
from stores.error_codes import StoreErrorCode
from tenants import errors
from tenants.error_codes import ErrorCode

ROOT = Path(__file__).resolve().parent.parent
APPS = ("b2b", "customers", "pricelists", "stores", "tenants")

#: every code a dialect may answer with, as clients see it
WIRE = {
    ErrorCode: {
        "error", "validation_error", "bad_request", "unauthenticated", "forbidden",
        "not_found", "conflict", "required", "blank", "invalid_choice", "invalid_phone",
        "missing_tenant", "invalid_cursor", "invalid_idempotency_key", "idempotency_key_reused",
        "idempotency_request_in_progress", "event_not_found", "unsafe_url",
        "secret_unreadable",
    },
    CustomerErrorCode: {
        "customer_not_found", "email_taken", "discord_id_taken", "user_taken", "invalid_user",
        "address_exists", "address_not_found", "unknown_client_type", "client_type_exists",
        "formula_cell", "identifier_taken", "identity_conflict", "confirmation_required",
        "merged_away", "not_a_person", "user_shared", "export_not_found", "export_not_ready",
        "merge_not_found", "merge_blocked", "merge_already_undone", "merge_undo_blocked",
        "customer_merged", "customer_erased", "duplicate_pair_not_found", "duplicate_pair_merged",
    },
    StoreErrorCode: {"missing_store", "invalid_store", "already_linked"},
    B2BErrorCode: {
        "contact_not_found", "primary_contact_conflict", "order_not_found",
        "invalid_transition", "invalid_payment",
    },
    PriceListErrorCode: {"price_list_not_found", "product_not_found"},
}  # fmt: skip


def test_the_codes_are_the_wire_formats():
    for enum, values in WIRE.items():
        assert {member.value for member in enum} == values, enum.__name__
    every = [member.value for enum in WIRE for member in enum]
    assert len(every) == len(set(every)), "a code belongs to one app"


def test_an_error_renders_its_code_as_the_plain_string():
    exc = errors.NotFound("Contact not found.", code=B2BErrorCode.CONTACT_NOT_FOUND)
    assert exc.code == "contact_not_found" and str(exc.code) == "contact_not_found"
    assert errors.ValidationError().code == "validation_error"


def _literal_codes(path: Path) -> list[str]:
    """``code="..."`` arguments and ``code = "..."`` class attributes with a string literal."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.keyword) and node.arg == "code") or (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["code"]
        ):
            value = node.value
        else:
            continue
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.append(
                f"{path.relative_to(ROOT)}:{node.lineno if hasattr(node, 'lineno') else value.lineno}"
            )
    return found


def test_no_error_code_is_a_free_string():
    """A new code is added to its app's enum, where clients and the next engineer find it
    (the admin's own login form codes are Django form codes, not domain errors)."""
    offending = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or path.name in ("error_codes.py", "admin_login.py"):
                continue
            offending += _literal_codes(path)
    assert not offending, offending
