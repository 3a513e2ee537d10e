"""What happens at one service under test, flow by flow (the citizen's and the officer's journey)."""
