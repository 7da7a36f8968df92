"""Customers to and from CSV (the admin and the ``import_customers``/``export_customers`` commands).

One row per customer. ``id`` is the public UUID: an import row with an ``id`` updates that
customer of the tenant (an id unknown in the tenant is an error: leave it empty to create); a
row without ``id`` but with an ``email`` updates the tenant's customer with that email, if
any; any other row creates a customer. Only the columns present in the file are written on
update. ``tags`` are client-type names separated by ``;`` (unknown names are an error).
Line numbers in reports are the file's physical line numbers (the header is line 1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation

from customers.models import Customer, Source
from tenants import errors

FIELD_COLUMNS = [
    "name",
    "local_name",
    "salutation",
    "first_name",
    "preposition",
    "last_name",
    "email",
    "phone",
    "discord_id",
    "discord_username",
    "discord_display_name",
    "source",
    "external_id",
    "credit",
    "is_active",
    "notes",
]
COLUMNS = ["id", "customer_id", *FIELD_COLUMNS, "tags", "created_at", "updated_at"]
READ_ONLY_COLUMNS = {"customer_id", "created_at", "updated_at"}
TRUE = {"1", "true", "yes", "y", "t"}
FALSE = {"0", "false", "no", "n", "f", ""}
MAX_CELL = 10_000


def export_queryset(queryset) -> Iterable[Customer]:
    return queryset.prefetch_related("tags").order_by("created_at", "id").iterator(chunk_size=500)


def export_rows(customers: Iterable[Customer]) -> Iterator[list[str]]:
    yield COLUMNS
    for c in customers:
        yield [
            str(c.uuid),
            str(c.pk),
            *[_cell(getattr(c, name)) for name in FIELD_COLUMNS],
            ";".join(sorted(t.name for t in c.tags.all())),
            c.created_at.isoformat(),
            c.updated_at.isoformat(),
        ]


def _cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def write_csv(customers: Iterable[Customer], out) -> int:
    writer = csv.writer(out)
    count = -1
    for count, row in enumerate(export_rows(customers)):  # noqa: B007
        writer.writerow(row)
    return count


def export_csv_text(queryset) -> str:
    buffer = io.StringIO()
    write_csv(export_queryset(queryset), buffer)
    return buffer.getvalue()


class CsvFormatError(Exception):
    """The file as a whole is unusable (no header, unknown columns, not UTF-8 text)."""


def read_rows(stream) -> list[tuple[int, dict[str, str]]]:
    """``[(line_number, {column: text})]`` of a CSV text stream; checks the header."""
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise CsvFormatError("The file is empty.") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise CsvFormatError(f"Line 1: {exc}") from None
    header = [h.strip().lstrip("\ufeff").lower() for h in header]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise CsvFormatError(f"Unknown column(s): {', '.join(unknown)}.")
    if len(set(header)) != len(header):
        raise CsvFormatError("A column appears twice in the header.")
    rows = []
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CsvFormatError(f"Line {line}: {exc}") from None
        if any(cell.strip() for cell in cells):
            padded = [*cells, *[""] * (len(header) - len(cells))]
            row = dict(zip(header, padded, strict=False))
            if len(cells) > len(header):
                row["__extra__"] = "yes"
            rows.append((line, row))
        line = reader.line_num + 1
    return rows


def read_bytes(data: bytes) -> list[tuple[int, dict[str, str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvFormatError("The file is not UTF-8 text.") from None
    return read_rows(io.StringIO(text, newline=""))


def coerce_row(row: dict[str, str]) -> tuple[str, dict, list[str] | None]:
    """``(uuid, customer fields, tag names or None)`` of one CSV row; raises ValidationError."""
    if row.get("__extra__"):
        raise errors.ValidationError("The row has more cells than the header.")
    for column, value in row.items():
        if len(value) > MAX_CELL:
            raise errors.ValidationError(f"{column}: the value is too long.")
        if "\x00" in value:
            raise errors.ValidationError(f"{column}: NUL characters are not allowed.")
    fields: dict = {}
    for name in FIELD_COLUMNS:
        if name not in row:
            continue
        value = row[name].strip()
        if name == "credit":
            try:
                credit = Decimal(value or "0")
            except InvalidOperation:
                raise errors.ValidationError(f"credit: {value!r} is not a number.") from None
            if not credit.is_finite():
                raise errors.ValidationError("credit: must be a finite number.")
            fields[name] = credit
        elif name == "is_active":
            if value.lower() not in TRUE | FALSE:
                raise errors.ValidationError(f"is_active: {value!r} is not true or false.")
            fields[name] = value.lower() in TRUE if value else True
        elif name == "source":
            upper = value.upper() or Source.MANUAL
            if upper not in Source.values:
                raise errors.ValidationError(
                    f"source: {value!r} is not one of {', '.join(Source.values)}."
                )
            fields[name] = upper
        else:
            fields[name] = value
    tags = None
    if "tags" in row:
        tags = [t.strip() for t in row["tags"].split(";") if t.strip()]
    return row.get("id", "").strip(), fields, tags
