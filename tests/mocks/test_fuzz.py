"""Bounded fuzzing (schemathesis, every check it has) of every operation of both planes of the mock: no 5xx,
no status code, header, content type or body the document does not declare.

The portal's operations and the control API's are fuzzed on two separate mocks: a fault or mode armed by the
control fuzzing must not turn a portal reply into a (declared-nowhere) 503."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import CHECKS, load_all_checks

from mocks.app import create_app, create_control_app
from schemas import load_profile
from tests.mocks.conftest import make_settings

load_all_checks()
ALL_CHECKS = CHECKS.get_all()  # `--checks all`
# well-formed requests these operations refuse by a rule across fields that a schema cannot say (MaDonVi must be
# the dstcode header's agency; a service must exist in the procedure database): a 400 there is no fault
CROSS_FIELD_RULES = {("POST", load_profile()["admin"]["paths"]["submit_results"]), ("POST", "/_mock/publications")}


def checks_for(case) -> list:
    if (case.method.upper(), case.path) in CROSS_FIELD_RULES:
        return [c for c in ALL_CHECKS if c.__name__ != "positive_data_acceptance"]
    return ALL_CHECKS


def mock_planes():
    # the agency URL points at a closed port: callbacks fail fast instead of reaching anything
    mock_settings = make_settings("http://testserver", "http://127.0.0.1:9")
    mock_settings.control.host, mock_settings.control.port = "testserver", 80  # the ASGI client's Host
    portal_app = create_app(mock_settings)
    return mock_settings, portal_app, create_control_app(portal_app)


_, portal_app, described_by = mock_planes()
portal_plane = schemathesis.openapi.from_asgi("/_mock/portal/openapi.json", described_by)
portal_plane.app = portal_app  # described by the control plane, served by the portal plane
control_settings, _, control_app = mock_planes()
control_plane = schemathesis.openapi.from_asgi("/_mock/openapi.json", control_app)
AUTH = {"Authorization": f"Bearer {control_settings.control.token}"}
BOUNDED = settings(max_examples=3, deadline=5000, derandomize=True, phases=[Phase.explicit, Phase.generate],
                   suppress_health_check=list(HealthCheck))


@portal_plane.parametrize()
@BOUNDED
def test_portal_operations_keep_their_document(case):
    """Rule: every reply of a portal operation is one its OpenAPI document declares (status, headers, media
    type, schema), never a server error; invalid input is refused, valid input is not."""
    case.call_and_validate(checks=checks_for(case))


@control_plane.parametrize()
@BOUNDED
def test_control_operations_keep_their_document(case):
    """Rule: the same of every control operation (bounded inputs: no stored value breaks a later listing)."""
    case.call_and_validate(checks=checks_for(case), headers=AUTH)
