"""The ``{"error": {...}}`` error envelope, shared by the b2b dialect (its seed's format) and
the hub's own API (which adopts it, DESIGN §4)."""

from __future__ import annotations

from tenants.api.dialect import Dialect, ErrorInfo


class ErrorObjectDialect(Dialect):
    """Errors ``{"error": {"code", "message", "details"?: {field: [messages]}, "request_id"}}``.

    ``details`` maps a field (dotted for nested input) to its messages and is present only
    for invalid input; ``request_id`` equals the X-Request-ID response header."""

    #: the first sentence of the OpenAPI component's description
    error_description = "The error envelope."

    def render_error(self, info: ErrorInfo) -> dict:
        error = {"code": info.code, "message": info.message}
        if info.fields:
            error["details"] = info.fields
        error["request_id"] = info.request_id
        return {"error": error}

    def error_schema(self) -> dict:
        return {
            "type": "object",
            "description": (
                f"{self.error_description} `details` maps a field (dotted for nested "
                "input, e.g. `contacts.0.email`) to its messages and is present only for "
                "invalid input; `request_id` equals the X-Request-ID response header."
            ),
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "examples": ["validation_error"]},
                        "message": {"type": "string"},
                        "details": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "array",
                                "items": {"type": "string"},
                            },
                        },
                        "request_id": {"type": "string"},
                    },
                    "required": ["code", "message", "request_id"],
                }
            },
            "required": ["error"],
        }
