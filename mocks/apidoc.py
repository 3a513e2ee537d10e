"""What the mock's OpenAPI document says each operation answers: every status code it really returns, with the
schema of each reply and the headers it reads, so that a client (or a fuzzer) can hold the mock to it."""

from __future__ import annotations

from typing import Any

JSON = "application/json"
PDF = "application/pdf"

STRING, INTEGER = {"type": "string"}, {"type": "integer"}
PROBLEMS = {"type": "array", "items": {"type": "object", "properties": {
    "field": STRING, "rule": STRING, "vi": STRING, "en": STRING}}}
# refusals of the request limits (mocks/limits.py) and of request validation (the control API)
LIMIT_ERROR = {"type": "object", "required": ["error", "message"],
               "properties": {"error": STRING, "message": STRING, "limit": INTEGER}}
CONTROL_ERROR = {"type": "object", "required": ["error", "message"],
                 "properties": {"error": STRING, "message": STRING, "errors": PROBLEMS, "limit": INTEGER}}
OAUTH_ERROR = {"type": "object", "properties": {"error": STRING, "error_description": STRING}}
OBJECT = {"type": "object"}

DESCRIPTIONS = {
    200: "Thành công | OK", 201: "Đã tạo | created", 302: "Chuyển hướng | redirect",
    400: "Yêu cầu không hợp lệ (JSON, lược đồ, độ sâu) | invalid request (JSON, schema, depth)",
    401: "Chưa xác thực (phiên, chữ ký, client) | not authenticated (session, checksum, client)",
    403: "Không có quyền | forbidden", 404: "Không tìm thấy | not found", 409: "Xung đột trạng thái | conflict",
    413: "Dữ liệu vượt quá giới hạn | body over the size limit",
    422: "Vi phạm quy tắc nghiệp vụ | business rule broken",
}


def message(schema: dict[str, Any]) -> dict[str, Any]:
    """A message schema of the profile as an inline OpenAPI schema (JSON Schema keywords only)."""
    return {k: v for k, v in schema.items() if not k.startswith("$")}


def either(*schemas: dict[str, Any]) -> dict[str, Any]:
    return schemas[0] if len(schemas) == 1 else {"anyOf": list(schemas)}


def answers(codes: dict[int, dict[str, Any] | None], media: dict[int, str] | None = None,
            headers: dict[int, dict[str, Any]] | None = None) -> dict[int | str, Any]:
    """`responses=` of a route: status → reply schema (None: no body), with its media type and headers."""
    out: dict[int | str, Any] = {}
    for status, schema in codes.items():
        entry: dict[str, Any] = {"description": DESCRIPTIONS.get(status, str(status))}
        if schema is not None:
            entry["content"] = {(media or {}).get(status, JSON): {"schema": schema}}
        if headers and status in headers:
            entry["headers"] = headers[status]
        out[status] = entry
    return out


def header_parameter(name: str, description: str, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "description": description,
            "schema": {"type": "string", "minLength": 1} if required else {"type": "string"}}


WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "thách thức xác thực | authentication challenge",
                                         "schema": STRING, "required": True}}


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Fill in what every operation shares: a request body may be refused for its size (413) or depth (400), and
    parameter validation answers 400 with the control envelope (FastAPI's own 422 is never sent)."""
    for ops in document.get("paths", {}).values():
        for op in ops.values():
            responses = op.setdefault("responses", {})
            if "HTTPValidationError" in str(responses.get("422", "")):
                del responses["422"]
                responses.setdefault("400", {"description": DESCRIPTIONS[400],
                                             "content": {JSON: {"schema": CONTROL_ERROR}}})
            if "requestBody" in op:
                responses.setdefault("413", {"description": DESCRIPTIONS[413], "content": {JSON: {"schema": LIMIT_ERROR}}})
                responses.setdefault("400", {"description": DESCRIPTIONS[400], "content": {JSON: {"schema": LIMIT_ERROR}}})
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused not in str(document.get("paths")):
            schemas.pop(unused, None)
    return document


def allowed_methods(routes, path: str) -> list[str]:
    """Every method some route serves at `path` (one route per method here: Starlette names only the first)."""
    from starlette.routing import Match

    methods: set[str] = set()
    for route in routes:
        match, _ = route.matches({"type": "http", "path": path, "method": "", "root_path": ""})
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= set(route.methods)
    return sorted(methods)


async def http_error(request, exc):
    """Framework refusals (405, an unparsable body, ...) in the control envelope; a 405 lists every method the
    path serves in `Allow`."""
    from mocks.portal import json_response

    status = getattr(exc, "status_code", 500)
    headers = dict(getattr(exc, "headers", None) or {})
    if status == 405:
        headers["Allow"] = ", ".join(allowed_methods(request.app.routes, request.url.path))
    error = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
    return json_response({"error": error, "message": str(getattr(exc, "detail", "") or error)}, status, headers)


DOCS_PATH = "/_mock/docs"
DOCS_ASSETS = "/_mock/docs/assets"  # Swagger UI's files, from the installed fastapi-offline package (no CDN)


def add_docs_page(app) -> None:
    """`/_mock/docs`: Swagger UI of the control API, its script and style served by the mock itself, so the page
    works offline and asks nothing of any other host."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_assets())), name="docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def docs_page():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{app.title} — tài liệu / docs",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            # the validator badge would send the document to an outside validator
            swagger_ui_parameters={"validatorUrl": None})


def swagger_assets():
    """The folder of Swagger UI's script, style and icon inside the installed fastapi-offline package."""
    from pathlib import Path

    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"
