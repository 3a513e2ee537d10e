"""The 5-working-day deadline for submitting test results after VPCP publishes the services.

The calculator lives in `kiemthu.workdays` so the mock portal's admin role (which refuses late submissions)
and the reports count the same working days."""

from kiemthu.workdays import (SUBMISSION_WORKING_DAYS, DeadlineStatus, add_working_days, deadline_status,
                              is_working_day, submission_deadline, working_days_between)

__all__ = ["SUBMISSION_WORKING_DAYS", "DeadlineStatus", "add_working_days", "deadline_status", "is_working_day",
           "submission_deadline", "working_days_between"]
