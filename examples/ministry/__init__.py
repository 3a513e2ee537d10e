"""Reference ministry one-stop system (HTTT GQTTHC) with seeded integration defects."""
