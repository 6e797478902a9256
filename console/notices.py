"""City notices: admins publish, edit and end them (audited); supervisors read the list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for

from cases import notices
from cases.audit import record
from cases.models import utcnow
from cases.notice_models import Notice
from console.blueprint import bp, login_required, runtime
from runtime import fix_check_rules


def _local(value: str, zone: ZoneInfo) -> datetime:
    """A datetime-local form value, read in the city's time zone, as UTC."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=zone).astimezone(UTC)
    except ValueError as exc:
        raise notices.NoticeError(f"Not a date and time: {value!r}.") from exc


def _form(zone: ZoneInfo) -> dict[str, Any]:
    rt = runtime()
    streets = []
    for name in request.form.get("streets", "").replace("\n", ",").split(","):
        if name.strip():
            street = rt.streets.match_name(name.strip())
            if street is None:
                raise notices.NoticeError(f"Unknown street: {name.strip()!r}.")
            streets.append(street.name)
    codes = [c for c in request.form.getlist("service_codes") if c in rt.catalog.by_code]
    intents = [i for i in request.form.getlist("kb_intents") if i in rt.kb.by_intent]
    return {
        "texts": {lang: request.form.get(f"text_{lang}", "") for lang in rt.bot.wording.languages},
        "streets": streets,
        "service_codes": codes,
        "kb_intents": intents,
        "starts_at": _local(request.form.get("starts_at", ""), zone),
        "ends_at": _local(request.form.get("ends_at", ""), zone),
    }


def _detail(notice: Notice) -> dict[str, Any]:
    return {
        "streets": notice.streets or "citywide",
        "service_codes": notice.service_codes,
        "kb_intents": notice.kb_intents,
        "starts_at": notice.starts_at.isoformat(),
        "ends_at": notice.ends_at.isoformat(),
    }


def _broadcast(db_session: Any, notice: Notice) -> notices.Broadcast:
    rt = runtime()
    wording = rt.bot.wording
    return notices.broadcast(
        db_session=db_session,
        notice=notice,
        body=lambda lang: wording.text(
            "NOTICE_SMS", "sms", lang, notice=notices.text_of(notice, lang)
        ),
        rules=fix_check_rules(rt.settings),
        per_minute=rt.settings.broadcast_per_minute,
        now=max(utcnow(), notice.starts_at),
    )


@bp.route("/notices", methods=["GET", "POST"])
@login_required()
def notices_page() -> Any:
    """Active, upcoming and past notices; admins publish a new one (and may text subscribers)."""
    rt = runtime()
    zone = ZoneInfo(rt.settings.timezone)
    if request.method == "POST":
        if g.user.role != "admin":
            abort(403)
        try:
            with rt.Session() as db_session, db_session.begin():
                values = _form(zone)
                notice = notices.publish(
                    db_session=db_session,
                    **values,
                    actor_name=g.user.username,
                    parent_number=request.form.get("parent_case", "").strip() or None,
                    parent_fields=lambda code: {
                        "service_name": rt.catalog.by_code[code].service_name,
                        "agency_responsible": rt.catalog.by_code[code].agency,
                    },
                )
                detail = _detail(notice)
                sent = None
                if request.form.get("broadcast"):
                    sent = _broadcast(db_session, notice)
                    detail.update(queued=sent.queued, skipped_opted_out=sent.skipped)
                record(
                    db_session=db_session,
                    actor=g.user,
                    action="notice.publish",
                    target_type="notice",
                    target_id=notice.id,
                    detail=detail,
                )
        except notices.NoticeError as exc:
            flash(str(exc), "error")
        else:
            said = f"Published notice {notice.id}."
            if sent is not None:
                said += f" Texts queued: {sent.queued}; skipped (opted out): {sent.skipped}."
            flash(said)
        return redirect(url_for("console.notices_page"))
    with rt.Session() as db_session:
        groups = notices.listed(db_session=db_session, now=utcnow())
        numbers = {
            n.id: notices.parent_number(db_session=db_session, notice=n)
            for group in groups.values()
            for n in group
        }
    return render_template(
        "notices.html",
        groups=groups,
        numbers=numbers,
        zone=zone,
        services=rt.catalog.services,
        topics=sorted(rt.kb.by_intent),
        languages=rt.bot.wording.languages,
        editing=None,
    )


@bp.route("/notices/<int:notice_id>", methods=["GET", "POST"])
@login_required("admin")
def notice_page(notice_id: int) -> Any:
    """Edit or end one notice (audited)."""
    rt = runtime()
    zone = ZoneInfo(rt.settings.timezone)
    if request.method == "POST":
        try:
            with rt.Session() as db_session, db_session.begin():
                notice = db_session.get(Notice, notice_id) or abort(404)
                if request.form.get("action") == "end":
                    notices.end(db_session=db_session, notice=notice, now=utcnow())
                    action = "notice.end"
                else:
                    notices.edit(db_session=db_session, notice=notice, **_form(zone))
                    action = "notice.edit"
                record(
                    db_session=db_session,
                    actor=g.user,
                    action=action,
                    target_type="notice",
                    target_id=notice.id,
                    detail=_detail(notice),
                )
        except notices.NoticeError as exc:
            flash(str(exc), "error")
            return redirect(url_for("console.notice_page", notice_id=notice_id))
        flash(f"Notice {notice_id} {'ended' if action == 'notice.end' else 'saved'}.")
        return redirect(url_for("console.notices_page"))
    with rt.Session() as db_session:
        notice = db_session.get(Notice, notice_id) or abort(404)
        db_session.expunge(notice)
    return render_template(
        "notices.html",
        groups=None,
        numbers={},
        zone=zone,
        services=rt.catalog.services,
        topics=sorted(rt.kb.by_intent),
        languages=rt.bot.wording.languages,
        editing=notice,
    )
