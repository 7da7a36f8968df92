"""Customers to and from CSV (the admin and the ``import_customers``/``export_customers`` commands).

One row per customer. ``id`` is the public UUID: an import row with an ``id`` updates that
customer of the tenant (an id unknown in the tenant is an error: leave it empty to create); a
row without ``id`` but with an ``email`` updates the tenant's customer with that email, if
any; any other row creates a customer. Only the columns present in the file are written on
update. ``tags`` are client-type names separated by ``;`` (unknown names are an error).
Line numbers in reports are the file's physical line numbers (the header is line 1).

Spreadsheet formulas (OWASP "CSV injection"): a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is run as a formula by spreadsheets. Every CSV the hub
writes (the admin's export, ``export_customers``) goes through ``neutralise``, which puts an
apostrophe before such a text cell, so a spreadsheet shows it as text. Numbers, booleans,
dates and ids are the hub's own and are written as they are (a negative credit stays a
number). The import reads a cell protected that way as the text after the apostrophe (an
export re-imports unchanged), and refuses, with the line and the column, any other cell that
starts with one of those characters, unless it is a number or a phone number (``-12.50``,
``+31 20 123 4567``, which spreadsheets save without the apostrophe): to import such text,
protect it with a leading apostrophe. See docs/csv.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from customers.error_codes import CustomerErrorCode
from customers.models import Source
from customers.selectors import customer_rows_in_batches
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
#: what an export reads of each customer (its tags come with it)
EXPORT_FIELDS = ("id", "uuid", *FIELD_COLUMNS, "created_at", "updated_at")
READ_ONLY_COLUMNS = {"customer_id", "created_at", "updated_at"}
TRUE = {"1", "true", "yes", "y", "t"}
FALSE = {"0", "false", "no", "n", "f", ""}
MAX_CELL = 10_000


#: the characters that make a spreadsheet run a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: a number or a phone number: starts with + or - yet is no formula worth refusing
_NUMBER_OR_PHONE = re.compile(r"[+-]?[0-9][0-9 ().\-/]*")
#: customers per batch of an export (two queries each)
EXPORT_BATCH = 2000


def neutralise(text: str) -> str:
    """A text cell a spreadsheet shows as text: an apostrophe before a formula's first
    character (OWASP). Every CSV writer of the hub writes its text cells through this."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def unprotect(text: str) -> str:
    """The inverse of ``neutralise`` (a protected cell's text)."""
    if text[:1] == "'" and text[1:2] and text[1:2] in "".join(FORMULA_STARTS):
        return text[1:]
    return text


def _cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    return str(value)  # a number or an id: the hub's own, never a formula


def export_row(row: dict) -> list[str]:
    """One customer (a row of ``customer_rows_in_batches``) as CSV cells, in COLUMNS order."""
    return [
        str(row["uuid"]),
        str(row["id"]),
        *[_cell(row[name]) for name in FIELD_COLUMNS],
        neutralise(";".join(row["tag_names"])),
        row["created_at"].isoformat(),
        row["updated_at"].isoformat(),
    ]


def export_chunks(queryset, *, batch_size: int = EXPORT_BATCH, progress=None) -> Iterator[str]:
    """The CSV text of ``queryset``'s customers (already scoped to what the caller may see),
    in creation order: the header first, then one chunk per batch of ``batch_size``
    customers (two queries each, whatever the total), so that memory stays flat and the
    first bytes leave before any query runs. ``progress(n)`` is called with the number of
    customers written so far."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield buffer.getvalue()
    done = 0
    for rows in customer_rows_in_batches(queryset, fields=EXPORT_FIELDS, batch_size=batch_size):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(export_row(row) for row in rows)
        done += len(rows)
        yield buffer.getvalue()
        if progress is not None:
            progress(done)


def write_csv(queryset, out, *, progress=None) -> int:
    """Write ``queryset``'s customers to the text stream ``out``; the number written."""
    count = 0

    def counted(done):
        nonlocal count
        count = done
        if progress is not None:
            progress(done)

    for chunk in export_chunks(queryset, progress=counted):
        out.write(chunk)
    return count


def export_csv_text(queryset) -> str:
    """The whole CSV as one string (small exports and tests; the admin streams it)."""
    return "".join(export_chunks(queryset))


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
    row = {
        column: value if column in READ_ONLY_COLUMNS else _text(column, value)
        for column, value in row.items()
    }
    fields: dict = {}
    for name in FIELD_COLUMNS:
        if name not in row:
            continue
        value = row[name]
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


def _text(column: str, cell: str) -> str:
    """A cell's text: stripped, without the apostrophe that protects a formula-like text
    (``unprotect``); a formula that is not protected is refused."""
    value = cell.strip()
    if value[:1] == "'":
        return unprotect(value)
    if value.startswith(FORMULA_STARTS) and not _NUMBER_OR_PHONE.fullmatch(value):
        shown = value if len(value) <= 30 else value[:29] + "…"
        raise errors.ValidationError(
            f"{column}: {shown!r} starts with {value[0]!r}, which a spreadsheet runs as a "
            "formula: remove that character, or put an apostrophe before it to import the "
            "text as it is.",
            code=CustomerErrorCode.FORMULA_CELL,
        )
    return value
