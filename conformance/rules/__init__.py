"""Rules of the four checks, one small named function per clause (see core.py)."""

from conformance.rules.core import (Checker, Owned, RuleNotApplicable, RuleNotEvaluated, RuleResult, RuleSkipped,
                                    RuleViolation, owned, rule)

__all__ = ["Checker", "Owned", "RuleNotApplicable", "RuleNotEvaluated", "RuleResult", "RuleSkipped", "RuleViolation",
           "owned", "rule"]
