"""Run bookkeeping: browser traces, the flow timeline, waiting on the portal journal."""
