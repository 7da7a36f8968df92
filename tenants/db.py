"""Database helpers shared by the services."""

from django.db import IntegrityError, InterfaceError, OperationalError


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


#: PostgreSQL SQLSTATEs of a server that cannot serve at all: connection exceptions (class
#: 08), shutting down or starting up (57P01, 57P02, 57P03), out of connections (53300)
_PG_UNAVAILABLE_CLASS = "08"
_PG_UNAVAILABLE = frozenset({"57P01", "57P02", "57P03", "53300"})
#: SQLite primary result codes of a database file that cannot be used right now: busy past
#: the busy timeout (5), disk I/O error (10), cannot open (14)
_SQLITE_UNAVAILABLE = frozenset({5, 10, 14})


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached (an outage a retry may outlive),
    as opposed to a failing statement (a bug, a constraint, a timeout): only the driver's own
    connection-level errors count, never an error raised by our code."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    cause = exc.__cause__
    if cause is None:
        return False
    if type(cause).__module__.split(".")[0] in ("psycopg", "psycopg2"):
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if not sqlstate:  # raised by the client library: refused, lost or closed connection
            return True
        return sqlstate.startswith(_PG_UNAVAILABLE_CLASS) or sqlstate in _PG_UNAVAILABLE
    code = getattr(cause, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _SQLITE_UNAVAILABLE
