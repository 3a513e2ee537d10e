"""The two planes: the system under test, knowing the portal URL, cannot reach the control API; the control API
answers only its own names, no other origin, and only with the run's token."""

from __future__ import annotations

import httpx
import pytest

from tests.mocks.helpers import AGENCY, dossier, dossier_code, sync_message

CONTROL_CALLS = [("GET", "/_mock/adversarial"), ("DELETE", "/_mock/adversarial"), ("POST", "/_mock/reset"),
                 ("DELETE", "/_mock/faults"), ("GET", "/_mock/journal"), ("GET", "/_mock/config"),
                 ("GET", "/_mock/health"), ("GET", "/_mock/docs"), ("GET", "/_mock/openapi.json")]


def journal_size(control) -> int:
    return len(control.get("/_mock/journal").json()["entries"])


@pytest.mark.parametrize("method,path", CONTROL_CALLS)
def test_control_api_is_not_on_the_portal_port(portal, control, method, path):
    """The portal's port serves only portal roles: every /_mock path answers 404 there, and the attempt is journalled."""
    r = portal.request(method, path)
    assert r.status_code == 404
    refused = control.get("/_mock/journal", params={"role": "control"}).json()["entries"]
    assert refused[-1]["path"] == path and refused[-1]["status_code"] == 404


def test_armed_mode_survives_a_disarm_on_the_portal_port(portal, control):
    """A system under test that sends DELETE /_mock/adversarial to the portal cannot disarm a negative case."""
    control.post("/_mock/adversarial", json={"mode": "ipn_lower_amount"})
    assert portal.delete("/_mock/adversarial").status_code == 404
    assert [a["mode"] for a in control.get("/_mock/adversarial").json()["armed"]] == ["ipn_lower_amount"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic eDp5"}],
                         ids=["no token", "wrong token", "other scheme"])
def test_control_api_needs_the_runs_token(portal_server, control, headers):
    """Without the run's bearer token nothing on the control plane is read or changed (401, WWW-Authenticate)."""
    control.post("/_mock/faults", json={"target": "adapter", "kind": "latency", "value": 0.01})
    with httpx.Client(base_url=portal_server.control_url, headers=headers, trust_env=False) as stranger:
        for method, path in CONTROL_CALLS[:6]:
            r = stranger.request(method, path)
            assert r.status_code == 401, (method, path)
            assert r.headers["www-authenticate"].startswith("Bearer") and r.json()["errors"][0]["field"] == "Authorization"
        assert stranger.get("/_mock/health").status_code == 200  # readiness stays open
    assert len(control.get("/_mock/faults").json()["faults"]) == 1


def test_a_foreign_host_is_refused_on_both_planes(portal_server, portal, control, session):
    """DNS rebinding: a request naming another host (rebound to 127.0.0.1) is refused with 421 on both planes."""
    msg = sync_message(session, [dossier(dossier_code(41))])
    evil = {"Host": f"attacker.example:{portal_server.port}"}
    r = portal.post("/adapter/integration", json=msg, headers={"dstcode": AGENCY, **evil})
    assert r.status_code == 421 and r.json()["errors"][0] == {
        "field": "Host", "rule": "accepted_host", "value": evil["Host"], "vi": "tên máy chủ không được chấp nhận",
        "en": r.json()["errors"][0]["en"]}
    assert portal.get("/oauth2/jwks", headers={"Host": "attacker.example"}).status_code == 421
    assert portal.get("/oauth2/jwks", headers={"Host": f"localhost:{portal_server.port}"}).status_code == 200
    control_port = portal_server.control_url.rsplit(":", 1)[1]
    before = journal_size(control)
    assert control.post("/_mock/reset", headers={"Host": f"attacker.example:{control_port}"}).status_code == 421
    assert control.get("/_mock/health", headers={"Host": "attacker.example"}).status_code == 421
    # the right port matters too: the control plane does not answer to the portal's name
    assert control.get("/_mock/journal", headers={"Host": f"127.0.0.1:{portal_server.port}"}).status_code == 421
    assert journal_size(control) >= before  # nothing was reset
    assert control.get("/_mock/journal", headers={"Host": f"localhost:{control_port}"}).status_code == 200


@pytest.mark.parametrize("headers", [{"Origin": "http://attacker.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}],
                         ids=["foreign origin", "opaque origin", "cross-site", "same-site other port"])
def test_a_cross_origin_request_is_refused_even_with_the_token(portal_server, portal, control, session, headers):
    """A browser page of another origin cannot change anything, even if it had the token (403, no CORS headers)."""
    portal.post("/adapter/integration", json=sync_message(session, [dossier(dossier_code(42))]),
                headers={"dstcode": AGENCY})
    before = journal_size(control)
    r = control.post("/_mock/reset", headers=headers)
    assert r.status_code == 403 and r.json()["error"] == "forbidden_origin"
    assert not any(h.lower().startswith("access-control-") for h in r.headers)
    preflight = control.options("/_mock/faults", headers={**headers, "Access-Control-Request-Method": "DELETE"})
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    assert journal_size(control) >= before
    own = {"Origin": portal_server.control_url, "Sec-Fetch-Site": "same-origin"}  # the control plane's own docs page
    assert control.post("/_mock/reset", headers=own).status_code == 200


def test_no_cors_headers_on_the_control_plane(control):
    """The control plane never grants a cross-origin read."""
    r = control.get("/_mock/journal")
    assert r.status_code == 200 and not any(h.lower().startswith("access-control-") for h in r.headers)


def test_control_openapi_describes_both_planes(portal_server):
    """The control API's description and the portal plane's are served (without the token) by the control plane."""
    with httpx.Client(base_url=portal_server.control_url, trust_env=False) as c:
        control_doc = c.get("/_mock/openapi.json").json()
        portal_doc = c.get("/_mock/portal/openapi.json").json()
    assert "/_mock/reset" in control_doc["paths"] and not any(p.startswith("/_mock") for p in portal_doc["paths"])
    assert "/adapter/integration" in portal_doc["paths"] and "/adapter/integration" not in control_doc["paths"]
    # the refusals are documented: a client (or schemathesis) knows the token scheme and the guard's answers
    assert control_doc["components"]["securitySchemes"]["runToken"]["scheme"] == "bearer"
    assert control_doc["security"] == [{"runToken": []}]
    assert {"401", "403", "421"} <= set(control_doc["paths"]["/_mock/reset"]["post"]["responses"])
    assert control_doc["paths"]["/_mock/health"]["get"]["security"] == []
    assert "421" in portal_doc["paths"]["/adapter/integration"]["post"]["responses"]
