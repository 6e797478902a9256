"""The overdue page: open cases past their due date, per agency (the digest, in the console)."""

from __future__ import annotations

from typing import Any

from flask import render_template

from cases.deadlines import default_calendar, overdue_by_agency
from cases.models import utcnow
from console.blueprint import bp, login_required, runtime


@bp.get("/overdue")
@login_required()
def overdue() -> Any:
    """Per agency, the open cases past due, the longest overdue first."""
    rt = runtime()
    calendar = rt.catalog.calendar or default_calendar()
    now = utcnow()
    with rt.Session() as db_session:
        by_agency = overdue_by_agency(db_session=db_session, now=now)
    today = calendar.local_day(now)
    rows = {
        agency: (
            overdue.total,
            [(c, (today - calendar.local_day(c.due_datetime)).days) for c in overdue.cases],
        )
        for agency, overdue in by_agency.items()
    }
    return render_template("overdue.html", rows=rows, today=today)
