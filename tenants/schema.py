"""drf-spectacular extensions: how the hub's authentication classes appear in the document."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.authentication.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A user token from POST /api/auth/token, or a tenant API key (chk_…).",
        }


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.authentication.ApiKeyAuthentication"
    name = ["apiKeyHeader", "basicAuth"]

    def get_security_requirement(self, auto_schema):
        # two alternatives (either one), not one requirement of both at once
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "A tenant API key as the bare Authorization header value.",
            },
            {
                "type": "http",
                "scheme": "basic",
                "description": "A tenant API key as the user name, with an empty password.",
            },
        ]


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.authentication.CsrfSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "Session from POST /api/auth/login; send X-CSRFToken on writes.",
        }


ERROR_DESCRIPTIONS = {
    "400": "Bad request: malformed JSON, a missing header or invalid input.",
    "401": "No credentials, or invalid ones.",
    "403": "The caller may not use this tenant or store, its role may not write, or CSRF failed.",
    "404": "Not found (a missing id and another tenant's id look the same).",
    "405": "Method not allowed.",
    "409": "Conflict with the current state (on a write, also: another request changed the "
    "record at the same moment; retry).",
    "413": "The request body is too large.",
    "415": "Unsupported media type: send application/json.",
    "422": "Validation failed.",
    "429": "Too many requests; see Retry-After.",
    "500": "Unexpected error (logged with the request id; no details are exposed).",
    "503": "The database cannot be reached (an outage): retry after `Retry-After` seconds.",
}
#: response headers documented with a common error
ERROR_HEADERS = {
    "503": {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def add_common_errors(result, generator, request, public):
    """Postprocessing hook: every operation lists its dialect's generic error responses,
    in that dialect's own error schema, so the document describes what really comes back."""
    from tenants.api.dialect import dialect_for_path

    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for path, operations in result.get("paths", {}).items():
        dialect = dialect_for_path(path)
        if dialect is None:
            continue
        schemas.setdefault(dialect.error_component, dialect.error_schema())
        ref = {"$ref": f"#/components/schemas/{dialect.error_component}"}
        statuses = {*dialect.common_statuses, dialect.validation_status}
        if "{" in path:
            statuses.add(404)
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            # a write's service may meet a concurrent change it cannot merge (tenants/transactions.py)
            for status in sorted(statuses | ({409} if method != "get" else set())):
                key = str(status)
                if key not in responses:
                    responses[key] = {
                        "description": ERROR_DESCRIPTIONS.get(key, "Error."),
                        "content": {"application/json": {"schema": ref}},
                    }
                    if key in ERROR_HEADERS:
                        responses[key]["headers"] = ERROR_HEADERS[key]
    return result
