"""The officers' control room: a web interface to run a testing campaign, watch it, read it and submit it."""
