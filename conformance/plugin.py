"""Conformance pytest plugin (inert without --target)."""
