"""Database helpers shared by the services."""

from django.db import IntegrityError


def violates(exc: IntegrityError, name: str, *columns: str) -> bool:
    """Whether ``exc`` is a violation of constraint ``name`` (PostgreSQL reports the name;
    SQLite reports the name for expression indexes and ``table.column`` lists otherwise)."""
    diag = getattr(exc.__cause__, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if constraint:
        return constraint == name
    text = str(exc)
    if name in text:
        return True
    return bool(columns) and all(f".{column}" in text for column in columns)
