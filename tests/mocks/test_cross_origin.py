"""A page of another origin, loaded in real Chromium, tries to steer the run through the control API: reset the
journal, clear the faults, disarm the adversarial modes, with no-cors fetches, a CORS fetch and a form post.
Nothing changes, and every attempt that reached the mock is journalled as refused."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from kiemthu.runtime import CHROMIUM_ARGS, chromium_path
from tests.mocks.helpers import AGENCY, ThreadServer, dossier, dossier_code, sync_message

ATTACK = """<!doctype html><html><body>
<form id="f" method="post" action="{control}/_mock/reset" target="sink"></form><iframe name="sink"></iframe>
<script>
const targets = ["{control}", "{portal}"];
async function attack() {{
  for (const base of targets) {{
    for (const path of ["/_mock/reset", "/_mock/faults", "/_mock/adversarial"]) {{
      try {{ await fetch(base + path, {{method: "POST", mode: "no-cors", body: "{{}}",
                                      headers: {{"Content-Type": "text/plain"}}}}); }} catch (e) {{}}
    }}
    try {{ await fetch(base + "/_mock/faults", {{method: "DELETE"}}); }} catch (e) {{}}
    try {{ await fetch(base + "/_mock/reset", {{method: "POST", headers: {{"Authorization": "Bearer guess"}}}}); }}
    catch (e) {{}}
  }}
  document.getElementById("f").submit();
  document.title = "done";
}}
attack();
</script></body></html>"""


@pytest.fixture
def attacker(portal_server):
    app = FastAPI()

    @app.get("/")
    async def page():
        return HTMLResponse(ATTACK.format(control=portal_server.control_url, portal=portal_server.url))

    server = ThreadServer(app).start()
    yield server
    server.stop()


def test_cross_origin_page_cannot_reset_or_clear(portal, control, session, attacker):
    """No CORS on the control plane, Origin refused, token required: a browser page of another origin changes nothing."""
    from playwright.sync_api import sync_playwright

    code = dossier_code(51)
    assert portal.post("/adapter/integration", json=sync_message(session, [dossier(code)]),
                       headers={"dstcode": AGENCY}).status_code == 200
    control.post("/_mock/faults", json={"target": "khodl", "kind": "latency", "value": 0.01})
    control.post("/_mock/adversarial", json={"mode": "ipn_bad_checksum"})
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(headless=True), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(attacker.url + "/")
            page.wait_for_function("document.title === 'done'", timeout=15000)
            # the form post navigates the iframe: wait until its refusal has come back
            page.wait_for_function("(() => { try { return frames[0].document.readyState === 'complete' "
                                   "&& frames[0].location.href !== 'about:blank'; } catch (e) { return true; } })()",
                                   timeout=15000)
        finally:
            browser.close()
    assert control.get(f"/_mock/dossiers/{code}").status_code == 200
    assert any(e["service"] == "DongBoHoSoMC" for e in control.get("/_mock/journal").json()["entries"])
    assert len(control.get("/_mock/faults").json()["faults"]) == 1
    assert [a["mode"] for a in control.get("/_mock/adversarial").json()["armed"]] == ["ipn_bad_checksum"]
    refused = control.get("/_mock/journal", params={"role": "control"}).json()["entries"]
    on_control = [e for e in refused if e["status_code"] == 403]
    on_portal = [e for e in refused if e["status_code"] == 404]
    # the attempts did reach the mock (so this test would see a reset that succeeded): 3 no-cors posts and the
    # form post on the control plane, refused for their origin; the portal port has no control API at all
    assert len(on_control) >= 4 and {e["path"] for e in on_control} >= {"/_mock/reset", "/_mock/faults"}
    assert len(on_portal) >= 3
