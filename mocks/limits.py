"""Limits on what one request may make the mock read and parse: body size and JSON nesting depth.

A body over the size limit is refused with 413 before it is buffered (Content-Length first, then counted as it
arrives); a JSON body nested deeper than the depth limit is refused with 400. Both messages name the limit.
The journal serialises every message it keeps, and orjson stops at 254 levels: a deeper message must be refused
before a role handles it, not fail while it is journalled."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from mocks.jsonutil import dumpb

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64
CONTROL_MAX_BYTES = 64 * 1024      # control requests are a few hundred bytes; nothing there needs more
_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')


class TooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(too_large_message(limit))
        self.limit = limit


def too_large_message(limit: int) -> str:
    return f"Dữ liệu vượt quá giới hạn {limit} byte | body exceeds the limit of {limit} bytes"


def too_deep_message(limit: int) -> str:
    return (f"JSON lồng nhau quá {limit} cấp (giới hạn độ sâu) | JSON nested deeper than the limit of {limit} levels")


def nesting_exceeds(body: bytes, limit: int) -> bool:
    """True when the JSON text nests arrays/objects deeper than `limit` levels.

    A text with no more opening brackets than the limit cannot be deeper: ordinary messages cost one C-level
    pass and nothing else; bodies with many brackets cost a few more C-level passes, none in Python per byte."""
    if len(body) - len(body.translate(None, b"[{")) <= limit:  # opening brackets, in one C-level pass
        return False
    # escaped backslashes and quotes out, then everything but quotes and brackets (all made square), then what
    # lay between quotes: the nesting alone is left, and each pass removes its innermost pairs, one level a pass
    if b"\\" in body:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(body.translate(_SQUARE, _NOT_STRUCTURE).split(b'"')[::2])
    for _ in range(limit):
        shorter = brackets.replace(b"[]", b"")
        if not shorter or len(shorter) == len(brackets):
            return False  # all levels removed, or unbalanced brackets: malformed JSON, for the parser to say
        brackets = shorter
    return True


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """Content-Length of an ASGI request, None when absent; ValueError when it is not a number."""
    for key, value in headers:
        if key == b"content-length":
            number = int(value)
            if number < 0:
                raise ValueError(value)
            return number
    return None


def is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for key, value in headers:
        if key == b"content-type":
            return b"json" in value.lower()
    return False


class RequestLimits:
    """ASGI middleware enforcing the size limit (and, for JSON bodies, the depth limit) on every request.

    `max_bytes_for` gives a smaller limit to some path prefixes (the control API's bodies are tiny). The body is
    read here, bounded, and handed on unchanged, so the application reads it as if nothing stood in between."""

    def __init__(self, app: Callable[..., Awaitable[None]], max_bytes: int = DEFAULT_MAX_BYTES,
                 max_depth: int = DEFAULT_MAX_DEPTH, max_bytes_for: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.max_bytes_for = sorted((max_bytes_for or {}).items(), key=lambda kv: -len(kv[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.max_bytes_for:
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        headers = scope["headers"]
        try:
            length = declared_length(headers)
        except ValueError:
            await refuse(send, 400, "invalid_request", "Content-Length không hợp lệ | invalid Content-Length")
            return
        if length is not None and length > limit:
            await refuse(send, 413, "request_too_large", too_large_message(limit), limit)
            return
        try:
            body = await read_bounded(receive, limit)
        except TooLarge:
            await refuse(send, 413, "request_too_large", too_large_message(limit), limit)
            return
        if body is None:  # the client left before sending its body
            return
        if body and is_json(headers) and nesting_exceeds(body, self.max_depth):
            await refuse(send, 400, "invalid_request", too_deep_message(self.max_depth), self.max_depth)
            return
        await self.app(scope, replay(body, receive), send)


async def read_bounded(receive, limit: int) -> bytes | None:
    """The whole request body, or TooLarge as soon as it passes `limit`; None when the client disconnected."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def replay(body: bytes, receive):
    """A receive channel that yields the already read body once, then whatever the client sends next."""
    sent = False

    async def again() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def refuse(send, status: int, error: str, message: str, limit: int | None = None) -> None:
    content = {"error": error, "message": message, **({"limit": limit} if limit is not None else {})}
    payload = dumpb(content)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if status == 413:  # the rest of the body was not read: the connection cannot carry another request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
