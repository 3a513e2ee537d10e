"""The adapter DSL: how an agency system's pages are driven (declared in the target file's `adapter:` section)."""

from conformance.adapter.dsl import AdapterError, Variables, load_adapter, pause_step, step_names, validate_adapter
from conformance.adapter.executor import Executor, FlowOutcome, PageSet, StepFailed

__all__ = ["AdapterError", "Executor", "FlowOutcome", "PageSet", "StepFailed", "Variables", "load_adapter",
           "pause_step", "step_names", "validate_adapter"]
