"""Check API responses against the project's own OpenAPI document.

Every response the shared test clients receive for a path in the document is validated:
the status code must be documented for that operation, the content type must match, and a
JSON body must validate against the documented schema (JSON Schema 2020-12; the document is
OpenAPI 3.1).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from jsonschema import Draft202012Validator


@lru_cache(maxsize=1)
def openapi() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


@lru_cache(maxsize=1)
def _routes() -> list[tuple[re.Pattern, str]]:
    routes = []
    for template in openapi()["paths"]:
        pattern = re.escape(template)
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
        routes.append((re.compile(f"^{pattern}$"), template))
    # Literal segments win over parameters (e.g. /customers/bulk over /customers/{id}).
    routes.sort(key=lambda r: (r[1].count("{"), -len(r[1])))
    return routes


def operation_for(path: str, method: str):
    for pattern, template in _routes():
        if pattern.match(path):
            operation = openapi()["paths"][template].get(method.lower())
            return template, operation
    return None, None


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
        response.streaming_content = iter([body])
        response._consumed_body = body
        return body
    return response.content


def check_response(response) -> None:
    request = response.wsgi_request
    template, operation = operation_for(request.path, request.method)
    if template is None:
        return  # not an API path (admin, healthz, docs)
    assert operation is not None, f"{request.method} {template} is not in the OpenAPI document"
    status = str(response.status_code)
    responses = operation.get("responses", {})
    documented = responses.get(status) or responses.get("default")
    assert documented is not None, (
        f"{request.method} {template} answered {status}, which the OpenAPI document does not "
        f"list (documented: {sorted(responses)}); body: {body_of(response)[:300]!r}"
    )
    content = documented.get("content")
    if not content:
        return
    content_type = response.get("Content-Type", "").split(";")[0].strip()
    assert content_type in content, (
        f"{request.method} {template} {status}: Content-Type {content_type!r}, documented "
        f"{sorted(content)}"
    )
    schema = content[content_type].get("schema")
    if schema is None or content_type != "application/json":
        return
    data = json.loads(body_of(response) or b"null")
    full = dict(schema)
    full["components"] = openapi().get("components", {})
    errors = sorted(Draft202012Validator(full).iter_errors(data), key=lambda e: list(e.path))
    assert not errors, (
        f"{request.method} {template} {status} does not match the OpenAPI document: "
        + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    )
