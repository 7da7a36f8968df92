"""JSON responses written by orjson: the same bytes as DRF's ``JSONRenderer``, faster.

DRF encodes with the standard library's ``json`` and its ``JSONEncoder``; a page of 100
customers took ~1 ms to encode, orjson takes ~0.1 ms (docs/performance.md). The output is
DRF's, byte for byte (tests compare them on every kind of value the dialects write):

- compact separators, UTF-8 (DRF's ``UNICODE_JSON``), U+2028 and U+2029 escaped;
- datetimes, dates and times, Decimals, lazy strings, iterables and everything else orjson
  does not write natively are handed to DRF's own ``JSONEncoder.default``;
- a pretty-printed response (``Accept: application/json; indent=4``), ASCII-only settings and
  values orjson refuses (an integer beyond 64 bits) are rendered by DRF itself.

One difference: a float NaN or infinity (which no dialect writes) becomes ``null`` where DRF's
strict mode would fail the response.
"""

from __future__ import annotations

import orjson
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.utils.encoders import JSONEncoder

OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
LINE_SEPARATOR, PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()


class JSONRenderer(DRFJSONRenderer):
    encoder_class = JSONEncoder

    def __init__(self):
        super().__init__()
        self._encoder = self.encoder_class()

    def default(self, obj):
        """What orjson does not write itself (see ``encoder_class``)."""
        return self._encoder.default(obj)

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        pretty = self.get_indent(accepted_media_type, renderer_context or {}) is not None
        if pretty or self.ensure_ascii or not self.compact:
            return self.render_with_drf(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=self.default, option=OPTIONS)
        except orjson.JSONEncodeError:
            return self.render_with_drf(data, accepted_media_type, renderer_context)
        if LINE_SEPARATOR in body or PARAGRAPH_SEPARATOR in body:
            body = body.replace(LINE_SEPARATOR, b"\\u2028").replace(PARAGRAPH_SEPARATOR, b"\\u2029")
        return body

    def render_with_drf(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return super().render(data, accepted_media_type, renderer_context)
