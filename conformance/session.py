"""One run of the suite and its services, by the names the plugin has always imported."""

from conformance.service import FLOW_ORDER, ServiceRun
from conformance.suite import CHECKS, Options, Suite

__all__ = ["CHECKS", "FLOW_ORDER", "Options", "ServiceRun", "Suite"]
