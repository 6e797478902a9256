"""Cases: filtered list, the case page (conversation, place, history), status changes."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.catalog import Service
from cases import photos
from cases.case_page import record_staff_view
from cases.deadlines import CityCalendar, DeadlineError, default_calendar, is_overdue, move_due
from cases.enums import RESOLUTIONS, STATUSES
from cases.images import MAX_BYTES
from cases.lifecycle import CaseError, Change, linked_cases, update_case
from cases.models import Case, CaseEvent, FixCheck, OutboundMessage, Turn, utcnow
from cases.public import case_link
from cases.review import DUE_FILTERS, CaseFilters, list_cases
from console.blueprint import bp, get_case_or_404, login_required, runtime
from console.filters import choice, day, page
from console.languages import supported


@bp.get("/cases")
@login_required()
def cases() -> Any:
    """The case list."""
    rt = runtime()
    now, calendar = utcnow(), rt.catalog.calendar or default_calendar()
    filters = CaseFilters(
        service_code=request.args.get("service", ""),
        status=request.args.get("status", ""),
        agency=request.args.get("agency", ""),
        language=choice("language", supported()),
        start=day("from"),
        end=day("to", end=True),
        page=page(),
        due=choice("due", DUE_FILTERS),
        now=now,
        today=calendar.day_bounds(now),
    )
    with rt.Session() as db_session:
        rows, more = list_cases(db_session=db_session, filters=filters)
    agencies = sorted({s.agency for s in rt.catalog.services})
    return render_template(
        "cases.html",
        rows=rows,
        more=more,
        filters=filters,
        services=rt.catalog.services,
        agencies=agencies,
        now=now,
        due_choices=[("overdue", "overdue"), ("today", "due today")],
        status_choices=[("open", "open (any)")] + [(x, x.replace("_", " ")) for x in STATUSES],
    )


@bp.get("/cases/<number>")
@login_required()
def case(number: str) -> Any:
    """One case; the opening is recorded (the resident's page says how many staff looked)."""
    with runtime().Session() as db_session:
        found = get_case_or_404(db_session, number)
        record_staff_view(db_session=db_session, case=found, user_id=g.user.id)
        events = list(
            db_session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == found.id).order_by(CaseEvent.id)
            )
        )
        turns = (
            list(
                db_session.scalars(
                    select(Turn)
                    .where(Turn.conversation_id == found.conversation_id)
                    .order_by(Turn.id)
                )
            )
            if found.conversation_id
            else []
        )
        texts = list(
            db_session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.case_id == found.id)
                .order_by(OutboundMessage.id)
            )
        )
        asked = list(
            db_session.scalars(
                select(FixCheck).where(FixCheck.case_id == found.id).order_by(FixCheck.id)
            )
        )
        duplicate_of = db_session.get(Case, found.duplicate_of) if found.duplicate_of else None
        linked = linked_cases(db_session, found)
        case_photos = photos.of_case(db_session, found.id)
        db_session.commit()  # the view just recorded
    service = runtime().catalog.by_code.get(found.service_code)
    return render_template(
        "case.html",
        case=found,
        linked=linked,
        statuses=STATUSES,
        resolutions=RESOLUTIONS,
        public_link=case_link(runtime().settings.public_url, found),
        events=events,
        turns=turns,
        texts=texts,
        fix_checks=asked,
        attributes=_readable(service, found.attributes),
        duplicate_of=duplicate_of,
        photos=case_photos,
        overdue=is_overdue(found),
        due_day=(rt_calendar().local_day(found.due_datetime) if found.due_datetime else None),
        photo_limits=(photos.MAX_PER_CASE, photos.MAX_STAFF_PER_CASE, MAX_BYTES // (1024 * 1024)),
    )


def _readable(service: Service | None, attributes: dict[str, str]) -> list[tuple[str, str]]:
    """Attribute answers as the resident chose them ('Size: Bigger than a tire')."""
    rows = []
    for code, value in attributes.items():
        attr = next((a for a in service.attributes if a.code == code), None) if service else None
        name = next((v.name for v in attr.values if v.key == value), value) if attr else value
        rows.append((code.replace("_", " ").capitalize(), name))
    return rows


@bp.post("/cases/<number>/status")
@login_required()
def case_status(number: str) -> Any:
    """Change the status (closing needs a resolution and a public note); residents are texted."""
    rt = runtime()
    try:
        with rt.Session() as db_session, db_session.begin():
            found = get_case_or_404(db_session, number)
            form = request.form
            update_case(
                db_session=db_session,
                case=found,
                change=Change(
                    status=form.get("status", ""),
                    notes=form.get("notes", ""),
                    public_note=form.get("public_note", ""),
                    assigned_to=form.get("assigned_to", ""),
                    resolution=form.get("resolution", ""),
                    duplicate_of=form.get("duplicate_of", ""),
                    referred_to=form.get("referred_to", ""),
                    referred_phone=form.get("referred_phone", ""),
                    reason=form.get("reason", ""),
                ),
                actor=g.user,
                wording=rt.bot.wording,
                policy=rt.catalog.policy,
                fix_checks=rt.fix_checks,
            )
    except CaseError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Case {number} updated; residents who asked for updates will get a text.")
    return redirect(url_for("console.case", number=number))


def rt_calendar() -> CityCalendar:
    """The city calendar of the running app."""
    return runtime().catalog.calendar or default_calendar()


@bp.post("/cases/<number>/due")
@login_required()
def case_due(number: str) -> Any:
    """Move the due date (a reason is required): audited, a case event, reporters texted."""
    rt = runtime()
    try:
        new_day = date.fromisoformat(request.form.get("due", "").strip())
    except ValueError:
        flash("Give the new due date as a date.", "error")
        return redirect(url_for("console.case", number=number))
    try:
        with rt.Session() as db_session, db_session.begin():
            found = get_case_or_404(db_session, number)
            texts = move_due(
                db_session=db_session,
                case=found,
                new_day=new_day,
                reason=request.form.get("reason", ""),
                actor=g.user,
                wording=rt.bot.wording,
                calendar=rt_calendar(),
            )
    except DeadlineError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Case {number} is now due {new_day.isoformat()}; {texts} text(s) queued.")
    return redirect(url_for("console.case", number=number))
