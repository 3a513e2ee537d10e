"""Bounded fuzzing of every JSON endpoint described in the mock's OpenAPI document: never a 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from mocks.app import create_app
from tests.mocks.conftest import make_settings


# the agency URL points at a closed port: callbacks fail fast instead of reaching anything
schema = schemathesis.openapi.from_asgi("/_mock/openapi.json",
                                        create_app(make_settings("http://testserver", "http://127.0.0.1:9")))


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    case.call_and_validate(checks=[not_a_server_error])
