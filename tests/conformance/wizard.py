"""A two-step submission wizard on loopback, in three behaviours, for the disallowed-upload probe:

- `at-upload`: the file is sent as soon as it is chosen (fetch) and a file that is not a PDF is refused there: the
  refusal shows under the input and the "Nộp hồ sơ" button is disabled (the wizard never reaches its receipt);
- `at-submit`: the file is checked when the dossier is sent (the refusal page instead of the receipt);
- `accepts`: any file is taken and a receipt with a dossier code shown;
- `accepts-hinted`: the same, its upload step showing a hint with the refusal's words before any file is chosen.

`probe_run` builds the part of a service run the probe reads (the adapter, the logged-in citizen's browser context,
evidence); the portal's journal is empty, as this wizard syncs nothing.
"""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

from conformance.adapter import PageSet, Variables
from conformance.bookkeeping.shared import RunShared
from conformance.evidence import Evidence
from kiemthu.runtime import free_port

VARIANTS = ("at-upload", "at-submit", "accepts", "accepts-hinted")
REFUSAL = "Tệp không đúng định dạng: chỉ chấp nhận tệp PDF."
HINT = "<p>Tệp không đúng định dạng (không phải PDF) sẽ bị từ chối.</p>"
CODE = "000.00.00.G15-261202-0042"

STEP1 = """<h1>Bước 1: Thông tin người nộp</h1><form action="buoc-2"><label for="h">Họ và tên</label>
<input id="h" name="h" required><button>Tiếp tục</button></form>"""
STEP2 = """<h1>Bước 2: Thành phần hồ sơ</h1>
<form method="post" enctype="multipart/form-data" action="nop"><label for="f">Tờ khai</label>
<input type="file" id="f" name="f"><p id="loi" role="alert"></p>
<input type="checkbox" id="c" required><label for="c">Tôi cam đoan</label><button id="nop">Nộp hồ sơ</button></form>"""
CHECK_AT_UPLOAD = """<script>
document.getElementById('f').addEventListener('change', async (e) => {
  const body = new FormData(); body.append('f', e.target.files[0]);
  const reply = await (await fetch('tai-len', {method: 'POST', body})).json();
  if (!reply.ok) {
    document.getElementById('loi').textContent = reply.message;
    e.target.value = ''; document.getElementById('nop').disabled = true;
  }
});</script>"""
RECEIPT = f"""<h1>Đã nộp hồ sơ</h1><p>Mã số hồ sơ: <strong id="ma-ho-so">{CODE}</strong></p>"""


def adapter(step_s: float = 10, marker: bool = True) -> dict[str, Any]:
    """The adapter of the wizard, as a target file would declare it."""
    spec: dict[str, Any] = {
        "pages": {"deep_link": "{system.base_url}/dvc"},
        "markers": {"service_form": {"role": "heading", "name": "Bước 1: Thông tin người nộp"}},
        "timeouts": {"step_s": step_s},
        "flows": {"citizen_login": [{"goto": "{pages.deep_link}"}], "submit": [
            {"fill": {"fields": "all"}},
            {"click": {"role": "button", "name": "Tiếp tục"}},
            {"expect": {"role": "heading", "name": "Bước 2: Thành phần hồ sơ"}},
            {"upload": {"documents": "required"}},
            {"check": {"role": "checkbox", "name": "Tôi cam đoan"}},
            {"click": {"role": "button", "name": "Nộp hồ sơ"}},
            {"capture": {"name": "dossier_code", "from": {"css": "#ma-ho-so"}, "pattern": "\\S+"}},
        ]},
    }
    if marker:
        spec["markers"]["upload_refused"] = {"text": "không đúng định dạng"}
    return spec


SCENARIO = {
    "id": "wizard", "MaTTHC": "1.000000", "fields": [{"name": "HoVaTen", "label": "Họ và tên", "required": True, "sample": "Nguyễn Văn An"}],
    "documents": [{"MaThanhPhanHoSo": "TP-1", "TenThanhPhanHoSo": "Tờ khai", "required": True}],
}


class Wizard:
    """The server and what it was sent (so a test can tell how far a probe went)."""

    def __init__(self, variant: str):
        self.variant = variant
        self.posts: list[str] = []
        self.url = ""


def _handler(wizard: Wizard):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _page(self, body: str, status: int = 200, kind: str = "text/html; charset=utf-8") -> None:
            data = (body if kind.startswith("application") else
                    f"<!doctype html><html><head><title>Nộp hồ sơ</title></head><body>{body}</body></html>").encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/dvc":
                self._page(STEP1)
            elif path == "/buoc-2":
                self._page(STEP2 + (CHECK_AT_UPLOAD if wizard.variant == "at-upload" else "")
                           + (HINT if wizard.variant == "accepts-hinted" else ""))
            else:
                self._page("không có trang này", 404)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?")[0]
            wizard.posts.append(path)
            is_pdf = b"%PDF" in body
            if path == "/tai-len":
                reply = '{"ok": true}' if is_pdf else '{"ok": false, "message": "%s"}' % REFUSAL
                self._page(reply, kind="application/json")
            elif path == "/nop":
                refused = wizard.variant == "at-submit" and not is_pdf
                self._page(f"<h1>Bước 2: Thành phần hồ sơ</h1><p>{REFUSAL}</p>" if refused else RECEIPT)
            else:
                self._page("không có trang này", 404)

    return Handler


@contextlib.contextmanager
def serve(variant: str) -> Iterator[Wizard]:
    wizard = Wizard(variant)
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _handler(wizard))
    wizard.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name=f"wizard-{variant}", daemon=True)
    thread.start()
    try:
        yield wizard
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _NoJournal:
    def journal(self, **_query) -> list[dict[str, Any]]:
        return []


def probe_run(browser, wizard: Wizard, run_dir: Path, spec: dict[str, Any]):
    """What the probe reads of a service run: the adapter, a citizen's browser context, evidence in `run_dir`."""
    run_shared = RunShared(run_dir / "shared")
    suite = SimpleNamespace(adapter=spec, runs={}, sync_journal=lambda: 0, page_s=5.0,
                            sync_s=5.0, evidence=Evidence(run_dir), portal=_NoJournal(), shared={}, run_dir=run_dir,
                            run_shared=run_shared)
    context = browser.new_context()
    return SimpleNamespace(suite=suite, id=SCENARIO["id"], citizen=PageSet(context.new_page()),
                           vars=Variables(system={"base_url": wizard.url}), scenario=SCENARIO, identity={},
                           executor=SimpleNamespace(base_dir=run_dir), extra_codes=[], extra_notes={},
                           dossier_code=None, login_lock=run_shared.lock("login-"))
