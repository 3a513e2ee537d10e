"""Load testing before go-live: Locust journeys, the go-live gate and reconciliation."""
