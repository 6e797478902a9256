"""The dashboard: the week at a glance, as server-rendered SVG charts."""

from __future__ import annotations

from typing import Any

from flask import render_template

from cases.handoffs import queue
from cases.stats import dashboard as compute
from console import charts
from console.blueprint import bp, login_required, runtime
from console.languages import language_name, supported


@bp.get("/")
@login_required()
def dashboard() -> Any:
    """Cases per service per day, handoff rate, low confidence, time to close, languages, and
    whether closing as fixed fixed it (reopen rate, confirmed share, rating; reopened now)."""
    with runtime().Session() as db_session:
        data = compute(db_session=db_session)
        waiting = len(queue(db_session=db_session))
    short = [d[5:] for d in data.days]
    codes = [*supported()]
    codes += sorted({*data.conversations_by_language, *data.cases_by_language} - set(codes))
    by_language = [
        (
            code,
            language_name(code),
            data.conversations_by_language.get(code, 0),
            data.cases_by_language.get(code, 0),
        )
        for code in codes
    ]
    figures = [
        charts.stacked_bars(
            "Cases filed per day, by service", short, data.cases_by_service, y_label="cases"
        ),
        charts.line("Conversations handed to a person", short, data.handoff_rate, y_max=1.0),
        charts.line(
            "Messages the NLU was unsure about", short, data.low_confidence_share, y_max=1.0
        ),
        charts.hbars(
            "Median time to close, by service",
            list(data.hours_to_close),
            list(data.hours_to_close.values()),
            unit=" h",
        ),
        charts.stacked_bars(
            "Volume by language",
            ["Conversations", "Cases"],
            {name: [float(convs), float(cases)] for _, name, convs, cases in by_language},
            y_label="count",
        ),
    ]
    if data.on_time is not None:
        weeks = [w[5:] for w in data.on_time.weeks]
        figures.append(
            charts.line(
                "Closed on time, all cases, by week due", weeks, data.on_time.share, y_max=1.0
            )
        )
        figures += [
            charts.line(f"Closed on time: {agency}", weeks, shares, y_max=1.0)
            for agency, shares in data.on_time.by_agency.items()
        ]
        figures.append(
            charts.hbars(
                "Closed on time, by service (8 weeks)",
                list(data.on_time.by_service),
                [None if v is None else v * 100 for v in data.on_time.by_service.values()],
                value_format="{:.0f}",
                unit="%",
            )
        )
    return render_template(
        "dashboard.html", data=data, figures=figures, waiting=waiting, by_language=by_language
    )
