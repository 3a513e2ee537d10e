"""Bounded fuzzing of every JSON endpoint described in the mock's OpenAPI documents (both planes): never a 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from mocks.app import create_app, create_control_app
from tests.mocks.conftest import make_settings

# the agency URL points at a closed port: callbacks fail fast instead of reaching anything
mock_settings = make_settings("http://testserver", "http://127.0.0.1:9")
mock_settings.control.host, mock_settings.control.port = "testserver", 80  # the ASGI client's Host
portal_app = create_app(mock_settings)
control_app = create_control_app(portal_app)
AUTH = {"Authorization": f"Bearer {mock_settings.control.token}"}

portal_schema = schemathesis.openapi.from_asgi("/_mock/portal/openapi.json", control_app)
portal_schema.app = portal_app  # described by the control plane, served by the portal plane
control_schema = schemathesis.openapi.from_asgi("/_mock/openapi.json", control_app)


@portal_schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    case.call_and_validate(checks=[not_a_server_error])


@control_schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_on_the_control_plane(case):
    case.call_and_validate(checks=[not_a_server_error], headers=AUTH)
