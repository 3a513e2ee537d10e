"""`python -m tests.conformance.recorder OUT MODULE ARGS...`: run a server module (the mock portal, the reference
system) unchanged, and append to OUT every credential it hands out over HTTP, so a test knows the real values
issued during a run: cookies it sets, codes and tokens in its redirects, tokens in its JSON replies, the login
form's session key. OUT is a JSON-lines file outside any run directory.
"""

from __future__ import annotations

import json
import re
import runpy
import sys
import threading
from urllib.parse import parse_qsl, urlsplit

import uvicorn

# where a server hands a credential to a client
REDIRECT_PARAMS = {"code", "id_token_hint", "id_token", "access_token", "refresh_token", "sessionDataKey", "state"}
JSON_FIELDS = {"access_token", "id_token", "refresh_token"}
HIDDEN_KEY = re.compile(rb'name="sessionDataKey"\s+value="([^"]+)"|value="([^"]+)"\s+name="sessionDataKey"')


class Recorder:
    """ASGI middleware: passes every message through unchanged and notes the credentials in the responses."""

    def __init__(self, app, out: str):
        self.app, self.out, self.lock = app, out, threading.Lock()

    def note(self, kind: str, value: str) -> None:
        if value:
            with self.lock, open(self.out, "a", encoding="utf-8") as f:
                f.write(json.dumps({"kind": kind, "value": value}) + "\n")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        body: list[bytes] = []
        kind = {"type": ""}

        async def recording_send(message):
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", []):
                    name, value = name.decode("latin-1").lower(), value.decode("latin-1")
                    if name == "set-cookie":
                        cookie = value.split(";", 1)[0]
                        self.note("cookie", cookie.split("=", 1)[1] if "=" in cookie else "")
                    elif name == "location":
                        for k, v in parse_qsl(urlsplit(value).query):
                            if k in REDIRECT_PARAMS:
                                self.note(k, v)
                    elif name == "content-type":
                        kind["type"] = value
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body"):
                    self.body(kind["type"], b"".join(body))
            await send(message)

        await self.app(scope, receive, recording_send)

    def body(self, content_type: str, raw: bytes) -> None:
        if "json" in content_type:
            try:
                data = json.loads(raw)
            except ValueError:
                return
            if isinstance(data, dict):
                for k in JSON_FIELDS & set(data):
                    self.note(k, str(data[k]))
        elif "html" in content_type:
            for m in HIDDEN_KEY.finditer(raw):
                self.note("sessionDataKey", (m.group(1) or m.group(2)).decode())


def main() -> None:
    out, module, *args = sys.argv[1:]
    original = uvicorn.Config.__init__

    def recording_config(self, app, *a, **kw):
        original(self, Recorder(app, out), *a, **kw)

    uvicorn.Config.__init__ = recording_config
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
