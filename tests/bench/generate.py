"""Synthetic data at scale: the engine behind ``manage.py generate``.

Fast and deterministic:

* Rows are written in chunks, each chunk in one transaction: on PostgreSQL with ``COPY ...
  FROM STDIN`` (psycopg 3), elsewhere with large ``executemany`` batches of plain INSERTs.
  Models are not instantiated and no signal runs, so **django-simple-history records nothing
  for generated rows** (their historical tables stay empty; the first change made through
  the API or the admin starts their history).
* Rows are tuples of **text in COPY form** (see ``text``): ids, UUIDs (32 hex digits),
  timestamps (``ts``), money (``money``) and numbers are strings, ``NULL`` is a null, ``"t"``
  and ``"f"`` are booleans; JSON columns hold Python objects. On PostgreSQL a chunk of a
  table is then one ``"\\t".join`` away from COPY's input (no per-value adaptation); the
  other databases get the values through each field's ``get_db_prep_save``.
* Everything about customer number ``i`` of a tenant comes from ``(seed, tenant slug, i)``:
  its own fields, addresses and tags from the bits of one keyed BLAKE2b digest of ``i``
  (``GenerationRun.bits``), and each extension's rows (store link, B2B account, orders) from a
  ``random.Random`` seeded with ``(seed, tenant, i, extension)`` (``GenerationRun.rng_for``),
  made only for the customers the extension acts on. Every id (UUIDs, Discord snowflakes,
  emails, order numbers) is derived from those: the same seed gives the same data, and
  generating 10,000 and then 10,000 more gives the same rows as generating 20,000 at once
  (customer numbers continue from the tenant's already generated customers, marked by an
  ``external_id`` of ``gen-<number>``).
* Integer primary keys are reserved from the table's sequence first (``nextval`` over
  ``generate_series`` on PostgreSQL), so related rows can be written in the same pass.
* A large load into (nearly) empty tables is done as pg_restore does it (PostgreSQL, outside
  a transaction): the secondary non-unique indexes and the foreign keys of the tables written
  are dropped first and made again at the end, from their exact definitions
  (``pg_get_indexdef``/``pg_get_constraintdef``, statistics targets included), also when the
  load fails or is interrupted (Ctrl-C, SIGTERM). Unique and primary-key indexes and check
  constraints stay: they enforce the rules row by row. The foreign keys come back ``NOT
  VALID`` first and are then validated, each in one set-based pass, while the indexes are
  rebuilt, on two connections.

Other apps add their own rows through *extensions* named in ``EXTENSIONS``
(dotted paths of classes; see ``Extension``), as the demo does with ``HUB_DEMO_SEEDS``: the
customers app never imports ``stores`` or ``b2b`` (DESIGN.md §1), yet one command fills them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import os
import queue
import random
import signal
import sys
import tempfile
import threading
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import connections, models, transaction
from django.utils.module_loading import import_string

from customers.models import Address, ClientType, Customer, Identifier, Source
from customers.services import client_type_create

#: every generated timestamp is derived from this instant, never from the clock
BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)
#: seconds between two consecutive customers' creation (plus up to as much jitter)
SPACING_S = 30
#: a customer's last change: up to this long after its creation
UPDATE_SPAN_S = 90 * 24 * 3600
CLIENT_TYPES = ("friend", "donor", "vip", "press")
EXTERNAL_PREFIX = "gen-"

FIRST_NAMES = (
    "Ada", "Grace", "Linus", "Margaret", "Sanne", "Daan", "Emma", "Noah", "Julia", "Lucas",
    "Sophie", "Finn", "Mila", "Levi", "Yara", "Sem", "Fatima", "Mohammed", "Aisha", "Omar",
    "Wei", "Mei", "Hiroshi", "Yuki", "Priya", "Arjun", "Olga", "Ivan", "Chloé", "Léa",
    "Zoë", "Jürgen", "Søren", "Ingrid", "Mateo", "Lucía", "Giulia", "Marco", "Amara", "Kofi",
    "Liam", "Olivia", "Ethan", "Ava", "Mason", "Isabella", "Lars", "Freya", "Nadia", "Tariq",
)  # fmt: skip
LAST_NAMES = (
    ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"), ("", "Bakker"),
    ("", "Visser"), ("", "Smit"), ("", "Meijer"), ("de", "Boer"), ("", "Mulder"),
    ("", "Smith"), ("", "Johnson"), ("", "Williams"), ("", "Brown"), ("", "Garcia"),
    ("", "Martínez"), ("", "Müller"), ("", "Schmidt"), ("", "Dubois"), ("", "Lefèvre"),
    ("", "Rossi"), ("", "Bianchi"), ("", "Nowak"), ("", "Kowalski"), ("", "Yilmaz"),
    ("", "Kaya"), ("", "Chen"), ("", "Wang"), ("", "Tanaka"), ("", "Sato"),
    ("", "Patel"), ("", "Sharma"), ("", "Okafor"), ("", "Mensah"), ("", "Ivanova"),
    ("", "Petrov"), ("", "Hansen"), ("", "Nielsen"), ("", "Andersson"), ("", "O'Brien"),
)  # fmt: skip
SHOP_WORDS = ("Boutique", "Corner", "Atelier", "Trading", "Goods", "Studio", "Supplies", "Market")
DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "shop.example.org")
GAMER_WORDS = ("shadow", "pixel", "nova", "raven", "blaze", "frost", "echo", "viper", "orbit")
#: (country, [(city, state, postal code pattern)])
PLACES = (
    ("NL", (("Amsterdam", "NH", "10##AB"), ("Rotterdam", "ZH", "30##CD"), ("Utrecht", "UT", "35##EF"))),
    ("US", (("New York", "NY", "100##"), ("Austin", "TX", "787##"), ("Seattle", "WA", "981##"))),
    ("DE", (("Berlin", "BE", "101##"), ("München", "BY", "803##"), ("Hamburg", "HH", "201##"))),
    ("FR", (("Paris", "IDF", "750##"), ("Lyon", "ARA", "690##"))),
    ("GB", (("London", "ENG", "EC# #AB"), ("Manchester", "ENG", "M# #CD"))),
    ("BE", (("Brussel", "BRU", "10##"), ("Antwerpen", "VAN", "20##"))),
)  # fmt: skip
STREETS = (
    "Keizersgracht", "Main Street", "Hauptstraße", "Rue de la Paix", "High Street",
    "Damrak", "Oak Avenue", "Bahnhofstraße", "Coolsingel", "Elm Street", "Via Roma",
)  # fmt: skip
SOURCES = (
    (Source.DISCORD, 40), (Source.EMAIL, 30), (Source.MANUAL, 10), (Source.STORE, 10),
    (Source.API, 10),
)  # fmt: skip
SOURCE_CHOICES = [str(s) for s, weight in SOURCES for _ in range(weight)]
SALUTATIONS = ("M", "F", "", "", "", "")
BASE_MS = int(BASE_TIME.timestamp() * 1000)
#: Discord ids are snowflakes: ms since 2015-01-01 << 22 | worker/process | increment
DISCORD_EPOCH_MS = 1_420_070_400_000
MASK74 = (1 << 74) - 1

CUSTOMER_FIELDS = (
    "id", "uuid", "tenant_id", "name", "local_name", "first_name", "last_name", "salutation",
    "preposition", "email", "phone", "discord_id", "discord_username", "discord_display_name",
    "source", "user_id", "notes", "external_id", "credit", "default_address_id", "is_active",
    "created_at", "updated_at",
)  # fmt: skip
#: the identity graph's rows (customers/identity.py): written with the customers, in bulk
IDENTIFIER_FIELDS = ("tenant_id", "customer_id", "kind", "value", "created_at", "updated_at")
ADDRESS_FIELDS = (
    "id", "customer_id", "key", "name", "line1", "line2", "house_number", "city", "state",
    "postal_code", "country", "phone", "created_at", "updated_at",
)  # fmt: skip


@functools.lru_cache(maxsize=4096)
def ascii_slug(text: str) -> str:
    """``"Zoë O'Brien"`` -> ``"zoeobrien"`` (for emails, handles and domains)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


FIRST = tuple((name, ascii_slug(name)) for name in FIRST_NAMES)
LAST = tuple(
    (prep, last, ascii_slug(prep + last), f"{prep} {last}" if prep else last)
    for prep, last in LAST_NAMES
)
#: every (first name, last name): first, its slug, preposition, last, full name, email local part
NAMES = tuple(
    (first, first_slug, prep, last, f"{first} {tail}", f"{first_slug}.{last_slug}")
    for first, first_slug in FIRST
    for prep, last, last_slug, tail in LAST
)
#: (country, ((city, state, (the 100 postal codes of its pattern)), ...))
PLACE_CODES = tuple(
    (
        country,
        tuple(
            (city, state, tuple(pattern.replace("#", d1, 1).replace("#", d2, 1)
                                for d1 in "0123456789" for d2 in "0123456789"))
            for city, state, pattern in cities
        ),
    )
    for country, cities in PLACES
)  # fmt: skip
assert all(p.count("#") == 2 for _, cities in PLACES for _, _, p in cities)
HOUSE_NUMBERS = tuple(str(n) for n in range(1, 400))


# --- values in COPY text form ------------------------------------------------------------------

#: a NULL in a row (COPY's own spelling; the other databases get ``None``)
NULL = "\\N"
_HOURS = [f"{h:02d}" for h in range(24)]
_MINUTES = [f"{m:02d}" for m in range(60)]
_CLOCK = [f"{h}:{m}:{s}" for h in _HOURS for m in _MINUTES for s in _MINUTES]  # 86,400
_MILLIS = [f"{n:03d}" for n in range(1000)]
_CENTS = [f"{n:02d}" for n in range(100)]
_DATES: dict[int, str] = {}
_EPOCH_DAY = date(1970, 1, 1).toordinal()


def ts(ms: int) -> str:
    """A timestamptz in text form, ``ms`` milliseconds after the Unix epoch (UTC)."""
    day, rest = divmod(ms, 86_400_000)
    text = _DATES.get(day) or day_text(day)
    second, milli = divmod(rest, 1000)
    return f"{text} {_CLOCK[second]}.{_MILLIS[milli]}+00"


def day_and_clock(ms: int) -> tuple[int, str]:
    """``ms`` as a day number and the rest of its text form: ``day_text(day + n) + clock``
    is the same time of day ``n`` days later, cheaper than ``ts`` for several days."""
    day, rest = divmod(ms, 86_400_000)
    second, milli = divmod(rest, 1000)
    return day, f" {_CLOCK[second]}.{_MILLIS[milli]}+00"


def day_text(day: int) -> str:
    """Day number ``day`` (since 1970-01-01) as ``YYYY-MM-DD``."""
    text = _DATES.get(day)
    if text is None:
        text = _DATES[day] = date.fromordinal(_EPOCH_DAY + day).isoformat()
    return text


def money(cents: int) -> str:
    """A two-decimal amount in text form (``1250`` -> ``"12.50"``; not negative)."""
    return f"{cents // 100}.{_CENTS[cents % 100]}"


def uuid7_text(ms: int, rand74: int) -> str:
    """A UUIDv7 (RFC 9562) in text form (32 hex digits): ``ms`` since the epoch, then 74
    given random bits."""
    return f"{(ms << 80) | _UUID7 | ((rand74 >> 62) << 64) | (rand74 & _LOW62):032x}"


_UUID7 = (0x7 << 76) | (0b10 << 62)  # version 7, variant 0b10
_LOW62 = (1 << 62) - 1


def text(value) -> str | object:
    """Any Python value in a row's text form (constants and defaults; the generators build
    their strings directly). JSON-able containers are returned as they are."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat(sep=" ")
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, int | float | Decimal | date | str):
        return str(value)
    return value


def _escape(value) -> str:
    if value == NULL:
        return value
    if not isinstance(value, str):
        value = text(value)
        if not isinstance(value, str):
            value = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def copy_text(rows: list[tuple], width: int) -> str:
    """Rows of text values as COPY's input. The fast path joins them as they are; when a
    value is not a string or needs escaping (a tab, newline, CR or backslash other than
    ``NULL``), every value is escaped one by one."""
    try:
        data = "\n".join(map("\t".join, rows)) + "\n"
    except TypeError:
        data = None
    if (
        data is None
        or data.count("\n") != len(rows)
        or data.count("\t") != len(rows) * (width - 1)
        or data.count("\\") != data.count(NULL)
        or "\r" in data
    ):
        data = "".join("\t".join(map(_escape, row)) + "\n" for row in rows)
    return data


# --- writing rows ------------------------------------------------------------------------------


class Table:
    """Rows for one model's table, in ``fields`` order (attnames: ``customer_id``, ...), each
    a tuple of values in text form (see ``text``)."""

    def __init__(self, model, fields):
        self.model = model
        self.fields = tuple(fields)
        meta = model._meta
        self.db_table = meta.db_table
        by_attname = {f.attname: f for f in meta.concrete_fields}
        # Columns the generator does not fill: their model default (a constant, or one call
        # of a callable) when they have one; left to the database (NULL or its own default)
        # otherwise. A new NOT NULL column without a default fails here, not mid-load.
        defaults = []
        for f in meta.concrete_fields:
            if f.attname in self.fields or f.primary_key:
                continue
            if f.has_default():
                self.fields += (f.attname,)
                defaults.append(text(f.get_default()))
            elif not f.null and getattr(f, "db_default", None) is models.NOT_PROVIDED:
                raise ValueError(f"generate: no value for {meta.label}.{f.name}")
        self.defaults = tuple(defaults)
        self.model_fields = [by_attname[name] for name in self.fields]
        self.columns = [f.column for f in self.model_fields]
        #: positions of JSON columns (Python objects in the rows, dumped when written)
        self.json_at = [
            n for n, f in enumerate(self.model_fields) if f.get_internal_type() == "JSONField"
        ]
        self.rows: list[tuple] = []
        self.written = 0

    def add(self, *values) -> None:
        self.rows.append(values + self.defaults if self.defaults else values)


RESTORE_SETUP = "SET maintenance_work_mem TO '512MB'"


class Writer:
    """Bulk writes for one database: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, using: str = "default"):
        self.using = using
        self.connection = connections[using]
        self.vendor = self.connection.vendor

    def tune(self) -> None:
        """Session settings for a bulk load, for the current transaction only (PostgreSQL):
        no wait for the WAL flush at commit (a crash loses at most the last chunks, never
        consistency) and memory for GIN pending-list merges."""
        if self.vendor != "postgresql":
            return
        with self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute("SET LOCAL work_mem TO '128MB'")

    def deferred_indexes(self, tables: list[str]) -> list[tuple[str, str, list]]:
        """``(name, definition, statistics targets)`` of the secondary indexes of ``tables``
        that no constraint needs (not unique, not primary; PostgreSQL): cheaper to build once
        after a large load than to maintain row by row. Unique indexes stay: they enforce
        the rules. Per-column statistics targets (``ALTER INDEX ... SET STATISTICS``) are
        kept, since a rebuilt index would lose them."""
        if self.vendor != "postgresql":
            return []
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid),"
                " ARRAY(SELECT ARRAY[a.attnum::int, a.attstattarget::int] FROM pg_attribute a"
                "  WHERE a.attrelid = i.indexrelid AND a.attstattarget > 0 ORDER BY a.attnum)"
                " FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_class t ON t.oid = i.indrelid"
                " JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()"
                " WHERE t.relname = ANY(%s) AND NOT i.indisunique AND NOT i.indisprimary"
                " ORDER BY c.relname",
                [tables],
            )
            return [(name, definition, list(stats or [])) for name, definition, stats in cursor]

    def deferred_foreign_keys(self, tables: list[str]) -> list[tuple[str, str, str]]:
        """``(table, name, definition)`` of the foreign keys of ``tables`` (PostgreSQL):
        each row written with them queues a check (Django's are ``DEFERRABLE INITIALLY
        DEFERRED``) that runs one lookup at commit; after a large load one set-based
        validation per key is far cheaper. The definitions are ``pg_get_constraintdef``'s,
        so the keys come back exactly as they were."""
        if self.vendor != "postgresql":
            return []
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
                " JOIN pg_class t ON t.oid = c.conrelid"
                " JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()"
                " WHERE c.contype = 'f' AND t.relname = ANY(%s)"
                " ORDER BY t.relname, c.conname",
                [tables],
            )
            return list(cursor.fetchall())

    def estimated_rows(self, model) -> int:
        if self.vendor != "postgresql":
            return 0
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass",
                [model._meta.db_table],
            )
            row = cursor.fetchone()
            return int(row[0]) if row else 0

    def drop_indexes(self, indexes) -> None:
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            for name, *_ in indexes:
                cursor.execute(f"DROP INDEX IF EXISTS {quote(name)}")

    def drop_foreign_keys(self, foreign_keys) -> None:
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            for table, name, _definition in foreign_keys:
                cursor.execute(
                    f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(name)}"
                )

    def restore(self, indexes, foreign_keys, parallel: int = 2) -> None:
        """Make the dropped ``indexes`` and ``foreign_keys`` again, as they were.

        The keys first come back ``NOT VALID`` (catalog only: enforced for new rows from
        then on), so each of them exists again whatever happens next; then the index builds
        (the GIN ones, the longest, first) and the validations (one anti-join each) run on
        ``parallel`` connections at once when this connection is not inside a transaction
        (they take compatible locks, except a validation and an index build of the same
        table, which wait for each other). A validation that fails leaves its key ``NOT
        VALID`` and raises."""
        additions, jobs = self._restore_plan(indexes, foreign_keys)
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.relname, c.conname FROM pg_constraint c"
                " JOIN pg_class t ON t.oid = c.conrelid"
                " JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()"
                " WHERE c.contype = 'f'"
            )
            present = set(cursor.fetchall())
            for table, name, statement in additions:
                if (table, name) not in present:
                    cursor.execute(statement)
        self.run_jobs(jobs, [RESTORE_SETUP], parallel)

    def restore_script(self, indexes, foreign_keys) -> str:
        """``restore`` as a psql script, for an operator whose run was killed (SIGKILL,
        power loss) before it could put them back itself."""
        additions, jobs = self._restore_plan(indexes, foreign_keys)
        lines = [
            "-- manage.py generate: the indexes and foreign keys it dropped for a bulk load.",
            "-- Run with psql -f against the same database (statements already done fail",
            "-- harmlessly).",
            RESTORE_SETUP + ";",
        ]
        lines += [statement + ";" for _table, _name, statement in additions]
        lines += [statement + ";" for job in jobs for statement in job]
        return "\n".join(lines) + "\n"

    def _restore_plan(self, indexes, foreign_keys):
        """``([(table, key name, ADD CONSTRAINT ... NOT VALID)], jobs)``: the keys to add
        back first, then the index builds (the GIN ones, the longest, first) and the
        validations, each job a list of statements."""
        quote = self.connection.ops.quote_name
        additions, validations = [], []
        for table, name, definition in foreign_keys:
            valid = not definition.endswith(" NOT VALID")
            additions.append(
                (
                    table,
                    name,
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
                    + (" NOT VALID" if valid else ""),
                )
            )
            if valid:
                validations.append(
                    [f"ALTER TABLE {quote(table)} VALIDATE CONSTRAINT {quote(name)}"]
                )
        builds = []
        for name, definition, statistics in sorted(
            indexes, key=lambda index: (" USING gin " not in index[1], index[0])
        ):
            statements = [definition.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1)]
            statements += [
                f"ALTER INDEX {quote(name)} ALTER COLUMN {int(column)} SET STATISTICS {int(target)}"
                for column, target in statistics
            ]
            builds.append(statements)
        return additions, builds + validations

    def run_jobs(self, jobs: list[list[str]], setup: list[str], parallel: int) -> None:
        """Run each job (a list of statements) in order, on ``parallel`` connections of
        their own when this one is not inside a transaction, else on this one. Every job
        runs even when another fails; the first error is raised at the end."""
        if not jobs:
            return
        if parallel <= 1 or len(jobs) == 1 or self.connection.in_atomic_block:
            with self.connection.cursor() as cursor:
                errors = []
                for statement in setup:
                    cursor.execute(statement)
                for job in jobs:
                    try:
                        for statement in job:
                            cursor.execute(statement)
                    except Exception as exc:
                        if self.connection.in_atomic_block:
                            raise
                        errors.append(exc)
                if errors:
                    raise errors[0]
            return
        pending: queue.SimpleQueue = queue.SimpleQueue()
        for job in jobs:
            pending.put(job)
        errors: list[BaseException] = []

        def work():
            connection = connections[self.using]
            try:
                with connection.cursor() as cursor:
                    for statement in setup:
                        cursor.execute(statement)
                    while True:
                        try:
                            job = pending.get_nowait()
                        except queue.Empty:
                            return
                        try:
                            for statement in job:
                                cursor.execute(statement)
                        except Exception as exc:
                            errors.append(exc)
            except BaseException as exc:  # a lost connection: the others go on
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=work) for _ in range(min(parallel, len(jobs)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():  # joined in steps, so Ctrl-C still reaches this thread
                thread.join(0.2)
        if errors:
            raise errors[0]

    def reserve_ids(self, model, count: int) -> list[int]:
        """``count`` fresh primary keys of ``model`` (an auto-incremented integer key)."""
        if count <= 0:
            return []
        table = model._meta.db_table
        column = model._meta.pk.column
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [table, column, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite (and the rest): one writer at a time inside the transaction, so the
            # next ids are simply above the highest ever used (AUTOINCREMENT's sqlite_sequence).
            quoted = self.connection.ops.quote_name
            cursor.execute(f"SELECT COALESCE(MAX({quoted(column)}), 0) FROM {quoted(table)}")
            start = cursor.fetchone()[0]
            if self.vendor == "sqlite":
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                if row and row[0] and row[0] > start:
                    start = row[0]
            return list(range(start + 1, start + 1 + count))

    def write(self, table: Table) -> int:
        rows, table.rows = table.rows, []
        if not rows:
            return 0
        quote = self.connection.ops.quote_name
        columns = ", ".join(quote(c) for c in table.columns)
        if self.vendor == "postgresql":
            if table.json_at:
                dumped: dict[int, str] = {}  # rows often share one object (id: alive here)
                rows = [_dump_json(row, table.json_at, dumped) for row in rows]
            data = copy_text(rows, len(table.columns))
            self.connection.ensure_connection()
            sql = f"COPY {quote(table.db_table)} ({columns}) FROM STDIN"
            with self.connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
                copy.write(data)
        else:
            connection = self.connection
            prep = [f.get_db_prep_save for f in table.model_fields]
            marks = ", ".join(["%s"] * len(table.columns))
            sql = f"INSERT INTO {quote(table.db_table)} ({columns}) VALUES ({marks})"
            prepared = [
                tuple(
                    None if v is None or v == NULL else p(v, connection)
                    for p, v in zip(prep, row, strict=True)
                )
                for row in rows
            ]
            with connection.cursor() as cursor:
                for start in range(0, len(prepared), 5000):
                    cursor.executemany(sql, prepared[start : start + 5000])
        table.written += len(rows)
        return len(rows)


def _dump_json(row: tuple, json_at: list[int], dumped: dict[int, str]) -> tuple:
    row = list(row)
    for n in json_at:
        value = row[n]
        if not isinstance(value, str):
            row[n] = dumped.get(id(value))
            if row[n] is None:
                row[n] = dumped[id(value)] = json.dumps(
                    value, separators=(",", ":"), ensure_ascii=False
                )
    return tuple(row)


# --- the generation ----------------------------------------------------------------------------


@dataclass(slots=True)
class GeneratedCustomer:
    """What extensions get to see of a customer being generated (text form, see ``text``;
    ``created_ms`` for arithmetic on time)."""

    index: int
    id: str
    uuid: str
    name: str
    local_name: str
    first_name: str
    last_name: str
    email: str
    phone: str
    country: str
    created_ms: int
    created_at: str
    updated_at: str
    addresses: list[tuple] = field(default_factory=list)  # Address rows (ADDRESS_FIELDS)


class Extension:
    """Another app's part of the generation (listed in ``EXTENSIONS``).

    ``add_arguments(parser)`` (classmethod) adds the app's options to ``generate``;
    ``__init__(run)`` prepares (creates the few rows it needs through services) and declares
    its tables with ``run.table(model, fields)``; ``customer(run, c)`` adds rows (text form,
    see ``text``) for one customer: its random choices come from the customer's stream with
    the extension's own ``salt`` (1-15), ``run.bits(c.index, salt)`` for a few of them or
    ``run.rng_for(c.index, salt)`` for many, asked for only when the extension acts on that
    customer, and must depend on nothing but ``c`` and that stream (chunks are made in any
    order, by several processes);
    ``finish(run)`` runs once at the end; ``summary()`` returns ``{label: count}``.
    """

    @classmethod
    def add_arguments(cls, parser) -> None:
        pass

    def __init__(self, run: GenerationRun):
        self.run = run

    def customer(self, run: GenerationRun, c: GeneratedCustomer) -> None:
        pass

    def finish(self, run: GenerationRun) -> None:
        pass

    def summary(self) -> dict[str, int]:
        return {}


_RUN: GenerationRun | None = None


def _worker_init() -> None:
    # Pool.terminate() stops its workers with SIGTERM: let it (the parent turns SIGTERM into
    # an exception for itself, to put the dropped indexes and keys back).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _run_chunk(chunk: tuple[int, int]) -> tuple[int, dict[str, int]]:
    """In a forked worker: one chunk of the run being made (``_RUN``, inherited). The
    worker keeps its connection for its next chunks (a new backend would load its catalog
    caches again); it ends with the worker."""
    offset, size = chunk
    try:
        return size, _RUN.chunk(offset, size)
    except BaseException:
        connections.close_all()
        raise


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


#: the other apps' parts of the generation (imported when a run starts: they import this module)
EXTENSIONS = ["tests.bench.generate_stores.StoreLinks", "tests.bench.generate_b2b.B2BAccounts"]


def extension_classes() -> list[type[Extension]]:
    return [import_string(path) for path in EXTENSIONS]


class GenerationRun:
    """One ``generate`` run: ``count`` new customers for ``tenant``, from number ``start``."""

    def __init__(
        self,
        *,
        tenant,
        count: int,
        seed: int = 1,
        options: dict | None = None,
        chunk_size: int = 10_000,
        using: str = "default",
        extensions: list[type[Extension]] | None = None,
        defer_indexes_from: int = 100_000,
    ):
        self.tenant = tenant
        self.count = count
        self.seed = seed
        self.options = options or {}
        self.chunk_size = max(1, chunk_size)
        #: runs of at least this many customers (and at least as many as the table holds)
        #: drop the secondary, non-unique indexes (trigram GIN indexes included) and, outside
        #: a transaction, the foreign keys of the tables they write for the load and make
        #: them again at the end (PostgreSQL)
        self.defer_indexes_from = defer_indexes_from
        self.index_seconds = 0.0
        self.writer = Writer(using)
        self.using = using
        digest = hashlib.sha256(f"{seed}:{tenant.slug}".encode()).digest()
        self._base_seed = int.from_bytes(digest[:8], "big") << 40
        self._key = digest[8:]
        self.rng = random.Random()
        self.tables: list[Table] = []
        self.tenant_id = text(tenant.pk)
        self.start = (
            Customer.objects.using(using)
            .filter(tenant=tenant, external_id__startswith=EXTERNAL_PREFIX)
            .count()
        )
        with transaction.atomic(using=using):
            self.client_types = [text(pk) for pk in self._client_types()]
            self.customers = self.table(Customer, CUSTOMER_FIELDS)
            self.addresses = self.table(Address, ADDRESS_FIELDS)
            self.tags = self.table(Customer.tags.through, ("customer_id", "clienttype_id"))
            self.identifiers = self.table(Identifier, IDENTIFIER_FIELDS)
            # _customer appends complete rows to these two
            assert not self.customers.defaults and not self.addresses.defaults
            classes = extensions if extensions is not None else extension_classes()
            self.extensions = [cls(self) for cls in classes]

    # helpers for extensions
    def table(self, model, fields) -> Table:
        table = Table(model, fields)
        self.tables.append(table)
        return table

    def bits(self, index: int, salt: int = 0) -> int:
        """512 random bits of customer number ``index`` for stream ``salt`` (a BLAKE2b
        digest of both, keyed with the seed and the tenant): stream 0 makes the customer's
        own fields, addresses and tags; an extension that needs a few choices can use its
        own stream (about 1 µs, against several for seeding ``rng_for``'s generator)."""
        digest = hashlib.blake2b(
            (index << 4 | salt).to_bytes(9, "little"), digest_size=64, key=self._key
        )
        return int.from_bytes(digest.digest(), "little")

    def rng_for(self, index: int, salt: int = 0) -> random.Random:
        """The generator of customer number ``index`` for stream ``salt`` (each extension
        has its own). Seeding a Mersenne Twister costs some microseconds: ask only for the
        customers that need one."""
        self.rng.seed(self._base_seed + (index << 4) + salt)
        return self.rng

    def portion(self, position: int, total: int) -> bool:
        """Whether the ``position``-th (0-based) of this run's customers is one of ``total``
        spread evenly over the run (exactly ``total`` of them are)."""
        if total <= 0:
            return False
        if total >= self.count:
            return True
        return (position + 1) * total // self.count > position * total // self.count

    def _client_types(self) -> list[int]:
        existing = dict(
            ClientType.objects.using(self.using)
            .filter(tenant=self.tenant, name__in=CLIENT_TYPES)
            .values_list("name", "pk")
        )
        for name in CLIENT_TYPES:
            if name not in existing:
                existing[name] = client_type_create(tenant=self.tenant, name=name).pk
        return [existing[name] for name in CLIENT_TYPES]

    # the run
    def run(self, progress=None, workers: int = 1) -> dict[str, int]:
        """Write the customers chunk by chunk (one transaction each), in ``workers``
        processes (forked: PostgreSQL only; the Python side and the database side of the
        load then overlap) or in this one. ``progress(n)`` is called after each chunk."""
        chunks = [
            (offset, min(self.chunk_size, self.count - offset))
            for offset in range(0, self.count, self.chunk_size)
        ]
        writer = self.writer
        indexes, foreign_keys = [], []
        if self.count >= self.defer_indexes_from and self.count >= writer.estimated_rows(Customer):
            tables = sorted({t.db_table for t in self.tables})
            indexes = writer.deferred_indexes(tables)
            if not writer.connection.in_atomic_block:
                foreign_keys = writer.deferred_foreign_keys(tables)
        previous = script = None
        if indexes or foreign_keys:
            with tempfile.NamedTemporaryFile(
                "w", prefix="generate-restore-", suffix=".sql", delete=False
            ) as file:
                file.write(writer.restore_script(indexes, foreign_keys))
                script = file.name
            sys.stderr.write(
                f"generate: {len(indexes)} indexes and {len(foreign_keys)} foreign keys are"
                f" dropped for the load and made again at the end (should this process be"
                f" killed first: psql -f {script})\n"
            )
            if threading.current_thread() is threading.main_thread():
                previous = signal.signal(signal.SIGTERM, _terminated)
        try:
            try:
                writer.drop_foreign_keys(foreign_keys)
                writer.drop_indexes(indexes)
                self._chunks(chunks, progress, workers)
            except BaseException:
                if script:
                    sys.stderr.write(
                        "generate: interrupted; making the indexes and foreign keys dropped"
                        " for the load again ("
                        + ", ".join([i[0] for i in indexes] + [k[1] for k in foreign_keys])
                        + ")\n"
                    )
                raise
            finally:
                if script:
                    started = time.perf_counter()
                    try:
                        writer.restore(indexes, foreign_keys, parallel=max(2, workers))
                    except BaseException:
                        sys.stderr.write(
                            f"generate: could not put every dropped index and foreign key"
                            f" back; the statements are in {script}\n"
                        )
                        script = None  # kept for the operator
                        raise
                    self.index_seconds = time.perf_counter() - started
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            if script:
                os.unlink(script)
        with transaction.atomic(using=self.using):
            for extension in self.extensions:
                extension.finish(self)
            for table in self.tables:
                writer.write(table)
            self._phone_identifiers()
        return self.summary()

    def _phone_identifiers(self) -> None:
        """The phone identifiers of the tenant's generated customers, in one statement: a
        phone two customers share stays with the older one (``ON CONFLICT DO NOTHING``, in
        primary-key order), as customers/identity.py keeps it; a second run adds its own."""
        connection = connections[self.using]
        quote = connection.ops.quote_name
        table, customers = quote(Identifier._meta.db_table), quote(Customer._meta.db_table)
        tenant = Customer._meta.get_field("tenant").get_db_prep_save(self.tenant.pk, connection)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (tenant_id, customer_id, kind, value, created_at,"
                f" updated_at) SELECT tenant_id, id, 'phone', phone, created_at, created_at"
                f" FROM {customers} WHERE tenant_id = %s AND phone <> '' AND external_id"
                f" LIKE %s ORDER BY id ON CONFLICT (tenant_id, kind, value) DO NOTHING",
                [tenant, EXTERNAL_PREFIX + "%"],
            )

    def _chunks(self, chunks, progress, workers) -> None:
        if workers > 1 and len(chunks) > 1 and self.writer.vendor == "postgresql":
            global _RUN
            connections.close_all()
            _RUN = self
            context = multiprocessing.get_context("fork")
            try:
                with context.Pool(min(workers, len(chunks)), initializer=_worker_init) as pool:
                    for size, written in pool.imap_unordered(_run_chunk, chunks):
                        self._count(written)
                        if progress is not None:
                            progress(size)
                    pool.close()  # the workers end normally (terminate() on errors only)
                    pool.join()
            finally:
                _RUN = None
        else:
            for offset, size in chunks:
                self._count(self.chunk(offset, size))
                if progress is not None:
                    progress(size)

    def chunk(self, offset: int, size: int) -> dict[str, int]:
        """Customers ``offset .. offset + size - 1`` of this run, in one transaction."""
        before = {t.db_table: t.written for t in self.tables}
        with transaction.atomic(using=self.using):
            self.writer.tune()
            ids = self.writer.reserve_ids(Customer, size)
            customer = self._customer
            for position, pk in enumerate(ids, start=offset):
                customer(position, pk)
            for table in self.tables:
                self.writer.write(table)
        written = {t.db_table: t.written - before[t.db_table] for t in self.tables}
        for table in self.tables:
            table.written = before[table.db_table]
        return written

    def _count(self, written: dict[str, int]) -> None:
        for table in self.tables:
            table.written += written.get(table.db_table, 0)

    def summary(self) -> dict[str, int]:
        out = {
            "customers": self.customers.written,
            "addresses": self.addresses.written,
            "customer tags": self.tags.written,
        }
        for extension in self.extensions:
            out.update(extension.summary())
        return out

    def analyze(self, parallel: int = 2) -> None:
        """Refresh the planner's statistics (and, on PostgreSQL, the visibility map, which
        index-only scans such as a store's COUNT need) for every table written: ``VACUUM
        (ANALYZE)`` of each, on ``parallel`` connections (``ANALYZE`` inside a transaction)."""
        connection = self.writer.connection
        quote = connection.ops.quote_name
        names = sorted({t.db_table for t in self.tables})
        if connection.vendor == "postgresql":
            if connection.in_atomic_block:
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE " + ", ".join(quote(n) for n in names))
            else:
                # the largest first, so the two connections finish together
                names.sort(key=lambda n: n != Customer._meta.db_table)
                self.writer.run_jobs(
                    [[f"VACUUM (ANALYZE) {quote(n)}"] for n in names], [], parallel
                )
        elif connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    def _customer(self, position: int, pk: int) -> None:
        """Customer number ``start + position`` (primary key ``pk``), its addresses and tags,
        then the extensions' rows. Every choice is a digit of ``bits(index)`` in a mixed
        radix (``divmod``): about 410 of its 512 bits are used at most."""
        index = self.start + position
        h = self.bits(index)
        pk_text = str(pk)
        uuid_bits = h & MASK74
        h >>= 74
        h, jitter = divmod(h, SPACING_S * 1000)
        created_ms = BASE_MS + index * SPACING_S * 1000 + jitter
        created = ts(created_ms)
        h, later = divmod(h, UPDATE_SPAN_S)
        updated = ts(created_ms + later * 1000)
        h, n = divmod(h, len(NAMES))
        first, first_slug, preposition, last, full, local_part = NAMES[n]
        h, n = divmod(h, len(SOURCE_CHOICES))
        source = SOURCE_CHOICES[n]
        local_name = ""
        h, n = divmod(h, 20)
        if n == 0:  # 5 %
            h, n = divmod(h, len(SHOP_WORDS))
            local_name = f"{first}'s {SHOP_WORDS[n]}"
        elif n == 1:  # 5 %
            local_name = first
        email = discord_id = discord_username = discord_display = ""
        discord = source == "DISCORD"
        if discord:
            h, n = divmod(h, 10)
        if not discord or n < 6:
            h, n = divmod(h, len(DOMAINS))
            email = f"{local_part}{index}@{DOMAINS[n]}"
        if discord:
            discord_id = str(((created_ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | (index & 0xFFF))
            h, n = divmod(h, len(GAMER_WORDS))
            discord_username = f"{GAMER_WORDS[n]}_{first_slug}{index % 10_000}"
            h, n = divmod(h, 2)
            discord_display = first if n else f"{first} {last[0]}."
        phone = ""
        h, n = divmod(h, 10)
        if n < 7:
            h, n = divmod(h, 10**8)
            phone = f"06{n:08d}"
        credit = "0"
        h, n = divmod(h, 5)
        if n == 0:  # 20 %
            h, n = divmod(h, 50_000)
            credit = money(n)
        h, n = divmod(h, len(PLACE_CODES))
        country, cities = PLACE_CODES[n]
        c = GeneratedCustomer(
            index,
            pk_text,
            uuid7_text(created_ms, uuid_bits),
            full,
            local_name,
            first,
            last,
            email,
            phone,
            country,
            created_ms,
            created,
            updated,
        )
        default_address = NULL
        h, n = divmod(h, 10)
        if n < 7:
            h, n = divmod(h, 20)
            add = self.addresses.rows.append  # complete rows: no defaults to add
            for key in ("home", "work") if n < 3 else ("home",):
                address_bits = h & MASK74
                h >>= 74
                h, n = divmod(h, len(cities))
                city, state, codes = cities[n]
                h, n = divmod(h, len(HOUSE_NUMBERS))
                number = HOUSE_NUMBERS[n]
                h, n = divmod(h, len(STREETS))
                street = STREETS[n]
                h, n = divmod(h, 100)
                address = (
                    uuid7_text(created_ms, address_bits),
                    pk_text,
                    key,
                    full,
                    f"{street} {number}",
                    "",
                    number,
                    city,
                    state,
                    codes[n],
                    country,
                    phone,
                    created,
                    created,
                )
                c.addresses.append(address)
                add(address)
            default_address = c.addresses[0][0]
        h, n = divmod(h, 100)
        if n < 40:
            types = self.client_types
            tags = self.tags
            second = n < 13
            h, n = divmod(h, len(types))
            tags.add(pk_text, types[n])
            if second:
                h, m = divmod(h, len(types) - 1)
                tags.add(pk_text, types[(n + 1 + m) % len(types)])
        h, n = divmod(h, len(SALUTATIONS))
        salutation = SALUTATIONS[n]
        h, n = divmod(h, 20)
        self.customers.rows.append(
            (
                pk_text,
                c.uuid,
                self.tenant_id,
                full,
                local_name,
                first,
                last,
                salutation,
                preposition,
                email,
                phone,
                discord_id,
                discord_username,
                discord_display,
                source,
                NULL,
                "",
                f"{EXTERNAL_PREFIX}{index:08d}",
                credit,
                default_address,
                "t" if n else "f",  # 95 % active
                created,
                updated,
            )
        )
        # the customer's identifiers, normalized as customers/identity.py does (the emails
        # are ASCII: lower() is their case-fold); email, Discord and external ids are unique
        # by construction. Phones are not (two customers may share one): they get theirs in
        # one set-based statement at the end of the run (``_phone_identifiers``).
        add = self.identifiers.rows.append
        tenant_id = self.tenant_id
        if email:
            add((tenant_id, pk_text, "email", email.lower(), created, created))
        if discord_id:
            add((tenant_id, pk_text, "discord", discord_id, created, created))
        add((tenant_id, pk_text, "external", f"{EXTERNAL_PREFIX}{index:08d}", created, created))
        for extension in self.extensions:
            extension.customer(self, c)
