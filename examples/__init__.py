"""Example systems under test, kept apart from the harness."""
