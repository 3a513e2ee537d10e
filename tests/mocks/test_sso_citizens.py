"""Logins of two citizens side by side at the mock portal's SSO, as services running concurrently make them.

Rule: what a check reads of the journal is scoped to its own service, so a login running beside it never enters
its verdict; a negative case armed for one citizen's login leaves another citizen's login genuine.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc.errors import JoseError

from conformance.journal import authorize_key, logins_of
from tests.mocks.test_sso import CITIZEN, RelyingParty, browser_login, rp, start_flow  # noqa: F401 (rp: a fixture)

OTHER = "5b1f0e7a-0c3d-4d2a-9f51-3a7c2e10a002"  # Trần Thị Bình, LoA1..LoA2


@pytest.fixture
def rp2(portal_server, agency):
    """A second relying-party session of the same agency (another citizen's browser)"""
    party = RelyingParty(portal_server.url, f"{agency.url}/sso/callback")
    yield party
    party.session.close()


def finish(rp, meta, verifier, nonce, state, back):
    token = rp.session.fetch_token(meta["token_endpoint"], authorization_response=back.headers["location"],
                                   code_verifier=verifier, state=state)
    rp.userinfo()
    return token


def test_interleaved_round_trips_are_journalled_under_their_citizen(portal, control, rp, rp2):
    """Each exchange of a round trip carries its login id, and the citizen once the portal knows who logs in"""
    a = start_flow(rp)
    b = start_flow(rp2)
    back_b = browser_login(rp2.portal_url, b[3], techid=OTHER)
    back_a = browser_login(rp.portal_url, a[3], techid=CITIZEN)
    finish(rp, a[0], a[1], a[2], a[4], back_a)
    finish(rp2, b[0], b[1], b[2], b[4], back_b)
    entries = control.get("/_mock/journal", params={"role": "sso"}).json()["entries"]
    trips = [e for e in entries if e["service"] in ("authorize", "login", "redirect", "token", "userinfo")]
    assert len(trips) == 10
    assert all(e["login"] for e in trips)
    assert len({e["login"] for e in trips}) == 2
    authorize = [e for e in trips if e["service"] == "authorize"]
    assert [e["citizen"] for e in authorize] == ["", ""]  # first logins: nobody known yet

    mine, theirs = logins_of(entries, CITIZEN), logins_of(entries, OTHER)
    assert [e["service"] for e in mine] == ["authorize", "login", "redirect", "token", "userinfo"]
    assert [e["service"] for e in theirs] == ["authorize", "login", "redirect", "token", "userinfo"]
    assert not {e["id"] for e in mine} & {e["id"] for e in theirs}
    assert {e["citizen"] for e in mine if e["citizen"]} == {CITIZEN}


def test_an_authorize_request_that_got_no_further_is_told_by_what_the_browser_sent(portal, control, rp, rp2):
    """A login that never reached the portal's login form is still the service's own, by its state and nonce;
    another service's authorize request in the same window is not"""
    mine, theirs = start_flow(rp), start_flow(rp2)
    for flow in (theirs, mine):
        assert portal.get(flow[3], follow_redirects=False).status_code == 302  # the authorize request only
    entries = control.get("/_mock/journal", params={"role": "sso"}).json()["entries"]
    sent = parse_qs(urlsplit(mine[3]).query)
    key = authorize_key({k: v[0] for k, v in sent.items()})
    assert [e["request"]["state"] for e in logins_of(entries, CITIZEN, [key])] == [mine[4]]
    assert logins_of(entries, CITIZEN) == []  # nothing of this citizen's without what its browser sent


def test_a_mode_armed_for_one_citizen_leaves_another_citizens_login_genuine(portal, control, rp, rp2):
    """Armed for citizen A, the forged ID token goes to A's login only, whoever logs in first"""
    armed = control.post("/_mock/adversarial", json={"mode": "id_token_wrong_iss", "citizen": CITIZEN})
    assert armed.status_code == 201 and armed.json()["citizen"] == CITIZEN
    meta, verifier, nonce, url, state = start_flow(rp2)
    token = finish(rp2, meta, verifier, nonce, state, browser_login(rp2.portal_url, url, techid=OTHER))
    assert rp2.parse_id_token(token, nonce)["TechID"] == OTHER
    meta, verifier, nonce, url, state = start_flow(rp)
    token = finish(rp, meta, verifier, nonce, state, browser_login(rp.portal_url, url, techid=CITIZEN))
    with pytest.raises((JoseError, ValueError)):
        rp.parse_id_token(token, nonce, leeway=0)


def test_one_armed_mode_is_disarmed_alone(portal, control):
    """DELETE /_mock/adversarial/{id} removes that mode; the one armed beside it stays"""
    first = control.post("/_mock/adversarial", json={"mode": "tampered_state", "citizen": CITIZEN}).json()
    second = control.post("/_mock/adversarial", json={"mode": "ipn_duplicate", "dossier": "X"}).json()
    assert control.delete(f"/_mock/adversarial/{first['id']}").status_code == 200
    assert [a["id"] for a in control.get("/_mock/adversarial").json()["armed"]] == [second["id"]]
    gone = control.delete(f"/_mock/adversarial/{first['id']}")
    assert gone.status_code == 404 and str(first["id"]) in gone.json()["message"]
