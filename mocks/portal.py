"""The mock portal's state shared by every role, and the request helpers they use (body limits, faults)."""

from __future__ import annotations

import asyncio
from typing import Any, Iterable

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from mocks.catalogue import Catalogue, DocumentStore, load_identities
from mocks.controls import REQUEST_FAULT_KINDS, AdversarialBoard, Fault, FaultBoard
from mocks.jsonutil import JSONDecodeError, dumpb, loads
from mocks.limits import DEFAULT_MAX_DEPTH, nesting_exceeds, too_deep_message
from mocks.settings import MockSettings
from mocks.store import Store
from mocks.validation import MessageValidators

JSON = "application/json"


class BodyTooLarge(Exception):
    pass


class BadJson(Exception):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumpb(content), status_code=status, media_type=JSON, headers=headers)


class JsonBytes(Response):
    """A reply whose JSON is already serialised."""

    media_type = JSON

    def __init__(self, body: bytes, status: int):  # headers built directly: this runs on every adapter reply
        self.status_code = status
        self.body = body
        self.background = None
        self.raw_headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]


def header_value(request: Request, name: bytes) -> str:
    """One request header (name in lower case) read from the ASGI scope, without building Starlette's Headers."""
    for key, value in request.scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


class Portal:
    def __init__(self, settings: MockSettings):
        self.settings = settings
        self.profile = settings.profile
        self.store = Store(settings.db_path)
        self.validators = MessageValidators(settings.profile_name)
        self.catalogue = Catalogue(self.profile, settings.scenario_files)
        self.identities = load_identities()
        self.identity_by_techid = {i["TechID"]: i for i in self.identities}
        self.documents = DocumentStore(self.profile, settings.base_url, settings.citizen_documents)
        self.faults = FaultBoard()
        self.adversarial = AdversarialBoard()
        self.max_body = int(self.profile["adapter"].get("max_body_bytes", 2 * 1024 * 1024))
        self.max_depth = int(self.profile["adapter"].get("max_json_depth", DEFAULT_MAX_DEPTH))
        self.background: set[asyncio.Task] = set()
        # role objects attach themselves here (sso, payment, adapter) so the control API can reset them
        self.roles: dict[str, Any] = {}

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    def url(self, path: str) -> str:
        return f"{self.settings.base_url}{path}"

    def spawn(self, coro) -> asyncio.Task:
        """A background task kept alive until done (IPN retries)."""
        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    def reset(self) -> None:
        """Forget the run's data (journal, dossiers, payments, faults, armed modes); registrations stay."""
        self.store.reset()
        self.faults.clear()
        self.adversarial.clear()
        self.documents.reset_synced()
        for role in self.roles.values():
            if hasattr(role, "reset"):
                role.reset()

    # -- request helpers ------------------------------------------------------------------------------------
    async def read_body(self, request: Request) -> bytes:
        """The request body, refusing anything over the size limit without buffering it all.

        Read straight from the ASGI channel (Starlette's stream costs an async generator per request) and kept
        where Starlette keeps it, so a form parser can read it again."""
        body = getattr(request, "_body", None)
        if body is not None:
            return body
        length = header_value(request, b"content-length")
        if length:
            try:
                if int(length) > self.max_body:
                    raise BodyTooLarge()
            except ValueError:
                raise BadJson("Content-Length không hợp lệ / invalid Content-Length") from None
        chunks, size = [], 0
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise BodyTooLarge()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        request._body = body
        return body

    async def read_json(self, request: Request) -> tuple[bytes, Any]:
        body = await self.read_body(request)
        if not body.strip():
            raise BadJson("thân yêu cầu rỗng, cần JSON / empty body, JSON expected")
        if nesting_exceeds(body, self.max_depth):
            raise BadJson(too_deep_message(self.max_depth))
        try:
            return body, loads(body)
        except JSONDecodeError as exc:
            raise BadJson(f"JSON không hợp lệ: {exc} / malformed JSON: {exc}") from None

    async def apply_fault(self, role: str, path: str, service: str | None = None,
                          dossiers: Iterable[str] = ()) -> tuple[Fault | None, int | None]:
        """Run any armed request fault: sleeps for latency/timeout; returns the status to answer with, if any."""
        fault = self.faults.take(role, path, service, REQUEST_FAULT_KINDS, dossiers)
        if fault is None:
            return None, None
        if fault.kind == "latency":
            await asyncio.sleep(float(fault.value or 0))
            return fault, None
        if fault.kind == "timeout":
            await asyncio.sleep(float(fault.value or 0))
            return fault, 504
        return fault, int(fault.value or 503)
