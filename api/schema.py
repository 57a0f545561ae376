"""How the OpenAPI schema describes our token auth (loaded by ApiConfig.ready)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`: a token from POST /api/tokens.",
        }


ERROR = {
    "type": "object",
    "required": ["detail", "code"],
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "object",
            "description": (
                "Bad input: the messages of each field (non_field_errors: the rest); a field "
                "holding an object or a list has its messages by key or index."
            ),
            "additionalProperties": {},
        },
    },
}
ERRORS = {
    "400": "Bad input (see `errors`).",
    "401": "No valid token (`WWW-Authenticate: Token`).",
    "403": "The permission this needs is missing.",
    "404": "Not found (an unknown id, or a page past the last).",
    "405": (
        "Not allowed on this path: /api/sync/failed is the failed list, so a store whose "
        "id is `failed` is pushed at /api/stores/failed/push."
    ),
    "415": "The body is in a media type this operation does not take, or unreadable.",
    "429": "Too many requests for this token (`Retry-After`).",
}


def error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every operation may answer the errors every view shares, in the one error shape
    (`api.exceptions`); a drf-spectacular postprocessing hook."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
    return result
