"""Rules of the four checks, one small named function per clause (see core.py)."""

from conformance.rules.core import Checker, RuleResult, RuleSkipped, RuleViolation, rule

__all__ = ["Checker", "RuleResult", "RuleSkipped", "RuleViolation", "rule"]
