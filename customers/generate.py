"""Synthetic data at scale: the engine behind ``manage.py generate``.

Fast and deterministic:

* Rows are written in chunks, each chunk in one transaction: on PostgreSQL with ``COPY ...
  FROM STDIN`` (psycopg 3), elsewhere with large ``executemany`` batches of plain INSERTs.
  Models are not instantiated and no signal runs, so **django-simple-history records nothing
  for generated rows** (their historical tables stay empty; the first change made through
  the API or the admin starts their history).
* Everything about customer number ``i`` of a tenant (its fields, addresses, tags, store
  link, B2B account and orders) comes from a random generator seeded with ``(seed, tenant
  slug, i)``, and every id (UUIDs, Discord snowflakes, emails, order numbers) is derived
  from it: the same seed gives the same data, and generating 10,000 and then 10,000 more
  gives the same rows as generating 20,000 at once (customer numbers continue from the
  tenant's already generated customers, marked by an ``external_id`` of ``gen-<number>``).
* Integer primary keys are reserved from the table's sequence first (``nextval`` over
  ``generate_series`` on PostgreSQL), so related rows can be written in the same pass.

Other apps add their own rows through *extensions* named in ``settings.HUB_GENERATORS``
(dotted paths of classes; see ``Extension``), as the demo does with ``HUB_DEMO_SEEDS``: the
customers app never imports ``stores`` or ``b2b`` (DESIGN.md §1), yet one command fills them.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import random
import sys
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connections, models, transaction
from django.utils.module_loading import import_string

from customers.models import Address, ClientType, Customer, Source
from customers.services import client_type_create

#: every generated timestamp is derived from this instant, never from the clock
BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)
#: seconds between two consecutive customers' creation (plus up to as much jitter)
SPACING_S = 30
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
DIGITS = "0123456789"
ZERO = Decimal(0)
BASE_MS = int(BASE_TIME.timestamp() * 1000)
#: Discord ids are snowflakes: ms since 2015-01-01 << 22 | worker/process | increment
DISCORD_EPOCH_MS = 1_420_070_400_000

CUSTOMER_FIELDS = (
    "id", "uuid", "tenant_id", "name", "local_name", "first_name", "last_name", "salutation",
    "preposition", "email", "phone", "discord_id", "discord_username", "discord_display_name",
    "source", "user_id", "notes", "external_id", "credit", "default_address_id", "is_active",
    "created_at", "updated_at",
)  # fmt: skip
ADDRESS_FIELDS = (
    "id", "customer_id", "key", "name", "line1", "line2", "house_number", "city", "state",
    "postal_code", "country", "phone", "created_at", "updated_at",
)  # fmt: skip


def ascii_slug(text: str) -> str:
    """``"Zoë O'Brien"`` -> ``"zoeobrien"`` (for emails, handles and domains)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


FIRST = tuple((name, ascii_slug(name)) for name in FIRST_NAMES)
LAST = tuple(
    (prep, last, ascii_slug(prep + last), f"{prep} {last}" if prep else last)
    for prep, last in LAST_NAMES
)


def uuid7_from(ms: int, rand74: int) -> uuid.UUID:
    """A UUIDv7 (RFC 9562): ``ms`` since the epoch, then 74 given random bits."""
    value = (
        ((ms & 0xFFFF_FFFF_FFFF) << 80)
        | (0x7 << 76)
        | ((rand74 >> 62) << 64)
        | (0b10 << 62)
        | (rand74 & ((1 << 62) - 1))
    )
    return uuid.UUID(int=value)


def seeded_uuid(rng: random.Random, when: datetime) -> uuid.UUID:
    """A UUIDv7 with ``when`` as its timestamp and random bits from ``rng``."""
    return uuid7_from(int(when.timestamp() * 1000), rng.getrandbits(74))


def ms_time(ms: int) -> datetime:
    return BASE_TIME + timedelta(milliseconds=ms - BASE_MS)


def postal_code(rng: random.Random, pattern: str) -> str:
    r = rng.random
    return "".join(DIGITS[int(r() * 10)] if ch == "#" else ch for ch in pattern)


# --- writing rows ------------------------------------------------------------------------------


class Table:
    """Rows for one model's table, in ``fields`` order (attnames: ``customer_id``, ...)."""

    def __init__(self, model, fields):
        self.model = model
        self.fields = tuple(fields)
        meta = model._meta
        self.db_table = meta.db_table
        by_attname = {f.attname: f for f in meta.concrete_fields}
        # Columns the generator does not fill: their model default (a constant, or one call
        # of a callable) when they have one; left to the database (NULL or its own default)
        # otherwise. A new NOT NULL column without a default fails here, not mid-load.
        self.defaults = []
        for f in meta.concrete_fields:
            if f.attname in self.fields or f.primary_key:
                continue
            if f.has_default():
                self.fields += (f.attname,)
                self.defaults.append(f.get_default())
            elif not f.null and getattr(f, "db_default", None) is models.NOT_PROVIDED:
                raise ValueError(f"generate: no value for {meta.label}.{f.name}")
        self.model_fields = [by_attname[name] for name in self.fields]
        self.columns = [f.column for f in self.model_fields]
        self.rows: list[tuple] = []
        self.written = 0

    def add(self, *values) -> None:
        self.rows.append(values + tuple(self.defaults) if self.defaults else values)


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

    def create_indexes(self, indexes) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem TO '512MB'")
            quote = self.connection.ops.quote_name
            for name, definition, statistics in indexes:
                cursor.execute(definition.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
                for column, target in statistics:
                    cursor.execute(
                        f"ALTER INDEX {quote(name)} ALTER COLUMN {int(column)}"
                        f" SET STATISTICS {int(target)}"
                    )

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
            self.connection.ensure_connection()
            raw = self.connection.connection
            sql = f"COPY {quote(table.db_table)} ({columns}) FROM STDIN"
            json_at = [
                n for n, f in enumerate(table.model_fields) if f.get_internal_type() == "JSONField"
            ]
            with raw.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    if json_at:
                        row = list(row)
                        for n in json_at:
                            row[n] = json.dumps(row[n], separators=(",", ":"))
                    copy.write_row(row)
        else:
            prep = [
                (lambda v, f=f: f.get_db_prep_save(v, self.connection)) for f in table.model_fields
            ]
            marks = ", ".join(["%s"] * len(table.columns))
            sql = f"INSERT INTO {quote(table.db_table)} ({columns}) VALUES ({marks})"
            prepared = [tuple(p(v) for p, v in zip(prep, row, strict=True)) for row in rows]
            with self.connection.cursor() as cursor:
                for start in range(0, len(prepared), 5000):
                    cursor.executemany(sql, prepared[start : start + 5000])
        table.written += len(rows)
        return len(rows)


# --- the generation ----------------------------------------------------------------------------


@dataclass
class GeneratedCustomer:
    """What extensions get to see of a customer being generated."""

    index: int
    id: int
    uuid: uuid.UUID
    name: str
    first_name: str
    last_name: str
    email: str
    phone: str
    country: str
    created_at: datetime
    updated_at: datetime
    addresses: list[tuple] = field(default_factory=list)  # Address rows (ADDRESS_FIELDS)


class Extension:
    """Another app's part of the generation (listed in ``settings.HUB_GENERATORS``).

    ``add_arguments(parser)`` (classmethod) adds the app's options to ``generate``;
    ``__init__(run)`` prepares (creates the few rows it needs through services) and declares
    its tables with ``run.table(model, fields)``; ``customer(run, c, rng)`` adds rows for
    one customer: ``rng`` is that customer's own generator (the customer's fields were drawn
    from it first), and the choice must depend on nothing but ``c`` and ``rng`` (chunks are
    made in any order, by several processes);
    ``finish(run)`` runs once at the end; ``summary()`` returns ``{label: count}``.
    """

    @classmethod
    def add_arguments(cls, parser) -> None:
        pass

    def __init__(self, run: GenerationRun):
        self.run = run

    def customer(self, run: GenerationRun, c: GeneratedCustomer, rng: random.Random) -> None:
        pass

    def finish(self, run: GenerationRun) -> None:
        pass

    def summary(self) -> dict[str, int]:
        return {}


_RUN: GenerationRun | None = None


def _run_chunk(chunk: tuple[int, int]) -> tuple[int, dict[str, int]]:
    """In a forked worker: one chunk of the run being made (``_RUN``, inherited)."""
    offset, size = chunk
    try:
        return size, _RUN.chunk(offset, size)
    finally:
        connections.close_all()


def extension_classes() -> list[type[Extension]]:
    return [import_string(path) for path in getattr(settings, "HUB_GENERATORS", [])]


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
        #: drop the secondary, non-unique indexes of the tables they write (trigram GIN
        #: indexes included) for the load and build them again at the end (PostgreSQL)
        self.defer_indexes_from = defer_indexes_from
        self.index_seconds = 0.0
        self.writer = Writer(using)
        self.using = using
        digest = hashlib.sha256(f"{seed}:{tenant.slug}".encode()).digest()
        self._base_seed = int.from_bytes(digest[:8], "big") << 40
        self.rng = random.Random()
        self.tables: list[Table] = []
        self.start = (
            Customer.objects.using(using)
            .filter(tenant=tenant, external_id__startswith=EXTERNAL_PREFIX)
            .count()
        )
        with transaction.atomic(using=using):
            self.client_types = self._client_types()
            self.customers = self.table(Customer, CUSTOMER_FIELDS)
            self.addresses = self.table(Address, ADDRESS_FIELDS)
            self.tags = self.table(Customer.tags.through, ("customer_id", "clienttype_id"))
            classes = extensions if extensions is not None else extension_classes()
            self.extensions = [cls(self) for cls in classes]

    # helpers for extensions
    def table(self, model, fields) -> Table:
        table = Table(model, fields)
        self.tables.append(table)
        return table

    def rng_for(self, index: int, salt: int = 0) -> random.Random:
        """The generator of customer number ``index`` (``salt`` > 0: another stream)."""
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
        deferred = []
        if self.count >= self.defer_indexes_from and self.count >= self.writer.estimated_rows(
            Customer
        ):
            deferred = self.writer.deferred_indexes(sorted({t.db_table for t in self.tables}))
            self.writer.drop_indexes(deferred)
        try:
            self._chunks(chunks, progress, workers)
        except BaseException:
            if deferred:
                sys.stderr.write(
                    "generate: interrupted; rebuilding the indexes dropped for the load"
                    " (" + ", ".join(d[0] for d in deferred) + ")\n"
                )
            raise
        finally:
            if deferred:
                started = time.perf_counter()
                self.writer.create_indexes(deferred)
                self.index_seconds = time.perf_counter() - started
        with transaction.atomic(using=self.using):
            for extension in self.extensions:
                extension.finish(self)
            for table in self.tables:
                self.writer.write(table)
        return self.summary()

    def _chunks(self, chunks, progress, workers) -> None:
        if workers > 1 and len(chunks) > 1 and self.writer.vendor == "postgresql":
            global _RUN
            connections.close_all()
            _RUN = self
            context = multiprocessing.get_context("fork")
            try:
                with context.Pool(min(workers, len(chunks))) as pool:
                    for size, written in pool.imap_unordered(_run_chunk, chunks):
                        self._count(written)
                        if progress is not None:
                            progress(size)
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
            for position, pk in enumerate(ids, start=offset):
                self._customer(position, pk)
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

    def analyze(self) -> None:
        """Refresh the planner's statistics (and, on PostgreSQL, the visibility map, which
        index-only scans such as a store's COUNT need) for every table written."""
        connection = self.writer.connection
        quote = connection.ops.quote_name
        names = sorted({t.db_table for t in self.tables})
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                if connection.in_atomic_block:
                    cursor.execute("ANALYZE " + ", ".join(quote(n) for n in names))
                else:
                    cursor.execute("VACUUM (ANALYZE) " + ", ".join(quote(n) for n in names))
            elif connection.vendor == "sqlite":
                cursor.execute("ANALYZE")

    def _customer(self, position: int, pk: int) -> None:
        index = self.start + position
        rng = self.rng_for(index)
        r = rng.random
        bits = rng.getrandbits
        created_ms = BASE_MS + index * SPACING_S * 1000 + int(r() * SPACING_S * 1000)
        created = ms_time(created_ms)
        updated = ms_time(created_ms + int(r() * 90 * 24 * 3600) * 1000)
        first, first_slug = FIRST[int(r() * len(FIRST))]
        preposition, last, last_slug, full_tail = LAST[int(r() * len(LAST))]
        full = f"{first} {full_tail}"
        source = SOURCE_CHOICES[int(r() * len(SOURCE_CHOICES))]
        local_name = ""
        roll = r()
        if roll < 0.05:
            local_name = f"{first}'s {SHOP_WORDS[int(r() * len(SHOP_WORDS))]}"
        elif roll < 0.10:
            local_name = first
        email = ""
        if source != "DISCORD" or r() < 0.6:
            email = f"{first_slug}.{last_slug}{index}@{DOMAINS[int(r() * len(DOMAINS))]}"
        discord_id = discord_username = discord_display = ""
        if source == "DISCORD":
            discord_id = str(((created_ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | (index & 0xFFF))
            word = GAMER_WORDS[int(r() * len(GAMER_WORDS))]
            discord_username = f"{word}_{first_slug}{index % 10_000}"
            discord_display = first if r() < 0.5 else f"{first} {last[0]}."
        phone = f"06{bits(26) % 10**8:08d}" if r() < 0.7 else ""
        credit = Decimal(int(r() * 50_000)) / 100 if r() < 0.2 else ZERO
        country, cities = PLACES[int(r() * len(PLACES))]
        c = GeneratedCustomer(
            index=index,
            id=pk,
            uuid=uuid7_from(created_ms, bits(74)),
            name=full,
            first_name=first,
            last_name=last,
            email=email,
            phone=phone,
            country=country,
            created_at=created,
            updated_at=updated,
        )
        default_address = None
        if r() < 0.7:
            for key in ("home", "work") if r() < 0.15 else ("home",):
                city, state, pattern = cities[int(r() * len(cities))]
                number = str(1 + int(r() * 399))
                address = (
                    uuid7_from(created_ms, bits(74)),
                    pk,
                    key,
                    full,
                    f"{STREETS[int(r() * len(STREETS))]} {number}",
                    "",
                    number,
                    city,
                    state,
                    postal_code(rng, pattern),
                    country,
                    phone,
                    created,
                    created,
                )
                c.addresses.append(address)
                self.addresses.add(*address)
            default_address = c.addresses[0][0]
        roll = r()
        if roll < 0.4:
            types = self.client_types
            first_tag = int(r() * len(types))
            self.tags.add(pk, types[first_tag])
            if roll < 0.13:
                self.tags.add(pk, types[(first_tag + 1 + int(r() * (len(types) - 1))) % len(types)])
        self.customers.add(
            pk,
            c.uuid,
            self.tenant.pk,
            full,
            local_name,
            first,
            last,
            SALUTATIONS[int(r() * len(SALUTATIONS))],
            preposition,
            email,
            phone,
            discord_id,
            discord_username,
            discord_display,
            source,
            None,
            "",
            f"{EXTERNAL_PREFIX}{index:08d}",
            credit,
            default_address,
            r() >= 0.05,
            created,
            updated,
        )
        # The extensions draw from the same generator, after the customer, in a fixed order.
        for extension in self.extensions:
            extension.customer(self, c, rng)
