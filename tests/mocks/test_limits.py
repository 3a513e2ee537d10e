"""Request limits: every parsed body has a depth and a size limit (clear 400 / 413 naming the limit), and the
control API's inputs are bounded so that nothing it stores breaks a later listing."""

from __future__ import annotations

import httpx
import pytest

from mocks.limits import CONTROL_MAX_BYTES, nesting_exceeds
from tests.mocks.conftest import PASSWORD, USER
from tests.mocks.helpers import AGENCY, dossier, dossier_code, sync_message

H = {"dstcode": AGENCY, "content-type": "application/json"}
PORTAL_JSON_PATHS = ["/adapter/auth", "/adapter/integration", "/adapter/share", "/paymentplatform/init",
                     "/paymentplatform/query", "/paymentplatform/getbill", "/paymentplatform/doisoat",
                     "/khodl/GetKetQuaGiayTo", "/_mock/faults", "/_mock/adversarial"]


def nested(levels: int) -> bytes:
    return b'{"session": "x", "data": ' + b"[" * levels + b"1" + b"]" * levels + b"}"


def test_nesting_counted_outside_strings():
    """Rule: depth is the nesting of arrays and objects; brackets inside strings do not count."""
    assert not nesting_exceeds(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[["}', 3)
    assert not nesting_exceeds(b'{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[["}', 3)
    assert not nesting_exceeds(b'[[[1]]]', 3)
    assert nesting_exceeds(b'[[[[1]]]]', 3)
    assert not nesting_exceeds(b'[[1],[2],[3],[4],[5]]', 2)  # many brackets, shallow


@pytest.mark.parametrize("path", PORTAL_JSON_PATHS)
def test_deep_json_refused_with_400_naming_the_limit(portal, path, control):
    """Rule: a JSON body nested deeper than the limit gets a clear 400 naming the limit (never a 500), and the
    connection goes on serving the next request."""
    client = control if path.startswith("/_mock") else portal
    r = client.post(path, content=nested(300), headers=H)
    assert r.status_code == 400, r.text
    assert "64" in r.text and ("độ sâu" in r.text or "deeper" in r.text)
    assert client.post(path, content=b"{}", headers=H).status_code < 500


def test_deep_but_allowed_json_is_judged_by_its_schema(portal, session, control):
    """Rule: a body within the depth limit is parsed and judged as usual (here: wrong type, 400 with errors)."""
    msg = sync_message(session, [dossier(dossier_code(1))])
    msg["data"][0]["TaiLieuNop"] = [[[[[[[[1]]]]]]]]
    r = portal.post("/adapter/integration", json=msg, headers={"dstcode": AGENCY})
    assert r.status_code == 400 and r.json()["error_code"] == 4
    entries = control.get("/_mock/journal", params={"service": "DongBoHoSoMC"}).json()["entries"]
    assert entries[-1]["status_code"] == 400


def test_control_body_over_its_limit_refused_before_buffering(portal, control):
    """Rule: a control request larger than its limit gets 413 naming the limit, from Content-Length alone."""
    big = b'{"target": "' + b"a" * (CONTROL_MAX_BYTES + 10) + b'", "kind": "latency"}'
    r = control.post("/_mock/faults", content=big, headers=H)
    assert r.status_code == 413 and str(CONTROL_MAX_BYTES) in r.json()["message"]

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"target": "'
        for _ in range(20):
            yield b"a" * 8192
        yield b'"}'
    r = control.post("/_mock/adversarial", content=chunks(), headers=H)
    assert r.status_code == 413
    assert control.get("/_mock/faults").json() == {"faults": []}


def test_sso_form_over_the_limit_gets_413(portal):
    """Rule: form endpoints of the SSO are bounded like the JSON ones."""
    r = portal.post("/oauth2/token", content=b"code=" + b"a" * (3 * 1024 * 1024),
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


@pytest.mark.parametrize("body, field", [
    ({"target": "adapter", "kind": "latency", "count": 2 ** 70}, "count"),
    ({"target": "adapter", "kind": "latency", "count": 0}, "count"),
    ({"target": "adapter", "kind": "latency", "count": True}, "count"),
    ({"target": "adapter", "kind": "latency", "value": 10 ** 30}, "value"),
    ({"target": "adapter", "kind": "latency", "duration_s": 10 ** 30}, "duration_s"),
    ({"target": "a" * 1000, "kind": "latency"}, "target"),
    ({"target": "adapter", "kind": "explode"}, "kind"),
])
def test_fault_inputs_bounded(portal, body, field, control):
    """Rule: fault parameters are bounded integers/numbers; out of bounds is a 400 naming the field, nothing is
    stored, and the fault listing keeps working."""
    r = control.post("/_mock/faults", json=body)
    assert r.status_code == 400 and field in [e["field"] for e in r.json()["errors"]], r.text
    listing = control.get("/_mock/faults")
    assert listing.status_code == 200 and listing.json() == {"faults": []}


def test_fault_within_bounds_accepted(portal, control):
    r = control.post("/_mock/faults", json={"target": "adapter", "kind": "http_5xx", "value": 502, "count": 1000})
    assert r.status_code == 201 and r.json()["fault"]["value"] == 502
    assert control.get("/_mock/faults").json()["faults"][0]["count"] == 1000


def test_adversarial_mode_and_client_bounded(portal, control):
    assert control.post("/_mock/adversarial", json={"mode": "nope"}).status_code == 400
    assert control.post("/_mock/adversarial", json={"mode": "ipn_duplicate", "client": "x" * 1000}).status_code == 400
    assert control.post("/_mock/adversarial", json={"mode": "ipn_duplicate", "client": "BTP"}).status_code == 201
    control.delete("/_mock/adversarial")


def test_keep_alive_survives_a_refused_deep_body(portal_server):
    """Rule: after a deep body is refused, the same connection serves the next request normally."""
    with httpx.Client(base_url=portal_server.url, trust_env=False, timeout=10) as c:
        r = c.post("/adapter/auth", content=nested(400), headers=H)
        assert r.status_code == 400
        r = c.post("/adapter/auth", json={"username": USER, "password": PASSWORD}, headers={"dstcode": AGENCY})
        assert r.status_code == 200
