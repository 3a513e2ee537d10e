"""The four mandated integration checks (SSO, submission, payment, processing & sync) as a pytest plugin."""
