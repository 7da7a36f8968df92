"""The one JSON parser of every dialect (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``).

DRF's ``JSONParser`` turns a ``ValueError`` into a 400, but Python's ``json`` decodes nested
arrays and objects recursively: a 2 KB body of 1,000 ``[`` raises ``RecursionError``, which
escaped as a 500. This parser refuses a body nested deeper than ``MAX_DEPTH`` before it
decodes anything, and turns every other decoding failure (invalid UTF-8 or charset, a control
character such as a raw NUL byte in a string, ``NaN``, an integer of more digits than Python
converts) into DRF's ``ParseError``, which each dialect renders as its own 400. A number
beyond a float's range (``1e400``) still decodes to infinity: the numeric fields refuse it as
a field error, in each dialect's validation format (peppered's 422 names the field).

``loads`` is the same decoder for code outside DRF (the ``Idempotency-Key`` fingerprint).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

#: deepest nesting of arrays and objects accepted in a request body (the deepest body a
#: dialect documents is 3 levels; 64 leaves room for any client and stays far from Python's
#: recursion limit)
MAX_DEPTH = 64

#: a JSON string (escapes included): its brackets are text, not structure
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class BodyTooDeep(ValueError):
    pass


def too_deep(text: str) -> bool:
    """Whether ``text`` nests arrays and objects deeper than ``MAX_DEPTH`` (linear time, no
    recursion; brackets inside strings are text)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False  # too few brackets to be too deep: no scan (almost every body)
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > MAX_DEPTH


def loads(data: str | bytes, encoding: str = "utf-8"):
    """Decode a JSON document as the API does; raises ``ValueError`` for every bad input."""
    text = data.decode(encoding) if isinstance(data, bytes | bytearray) else data
    if too_deep(text):
        raise BodyTooDeep(f"nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=strict_constant)
    except RecursionError as exc:  # pragma: no cover - the depth check comes first
        raise BodyTooDeep(f"nested deeper than {MAX_DEPTH} levels") from exc


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a nesting limit and every decoding failure as a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            return loads(stream.read(), encoding)
        except (ValueError, LookupError) as exc:  # UnicodeDecodeError is a ValueError
            raise ParseError(f"JSON parse error - {exc}") from exc
