"""Report builders: read a run directory, write the submission-ready artefacts."""
