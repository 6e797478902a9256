"""The console's and the jobs' key queries use an index (SQLite's EXPLAIN QUERY PLAN)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from cases import retention
from cases.db import make_engine, make_session_factory
from cases.review import ConversationFilters, list_conversations
from cases.stats import dashboard
from cases.users import authenticate
from nlu.curation import sync_low_confidence

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def plans(engine: Engine, action: Callable) -> dict[str, str]:
    """Run `action(session)`, then EXPLAIN QUERY PLAN every SELECT it issued: sql -> plan."""
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with make_session_factory(engine)() as s:
            action(s)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    out = {}
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        for statement, parameters in seen:
            rows = raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            out[statement] = " | ".join(str(row[-1]) for row in rows)
    return out


def plan_of(found: dict[str, str], *fragments: str) -> str:
    """The plan of the one captured statement containing every fragment."""
    matches = [p for sql, p in found.items() if all(f in sql for f in fragments)]
    assert len(matches) == 1, (fragments, list(found))
    return matches[0]


def test_dashboard_uses_indexes_on_received_and_started(engine):
    found = plans(engine, lambda s: dashboard(db_session=s, now=NOW))
    assert "ix_turns_received_at" in plan_of(found, "FROM turns", "received_at >=")
    assert "ix_conversations_started_at" in plan_of(found, "FROM conversations", "started_at >=")


def test_candidate_sync_uses_the_received_at_index(engine):
    def sync(s):
        with s.begin():
            sync_low_confidence(db_session=s)

    found = plans(engine, sync)
    assert "ix_turns_received_at" in plan_of(found, "FROM turns", "received_at >=")


def test_conversation_filters_use_indexes(engine):
    filters = ConversationFilters(start=NOW - timedelta(days=7), has_case=True)
    found = plans(engine, lambda s: list_conversations(db_session=s, filters=filters))
    plan = plan_of(found, "FROM conversations", "EXISTS")
    assert "ix_cases_conversation_id" in plan


def test_login_limiter_uses_composite_indexes(engine):
    found = plans(
        engine,
        lambda s: authenticate(db_session=s, username="sam", password="x", ip="10.0.0.1", now=NOW),
    )
    limiter = {sql: plan for sql, plan in found.items() if "FROM login_attempts" in sql}
    assert len(limiter) >= 2
    for sql, plan in limiter.items():  # every question the sign-in limiter asks uses an index
        assert "SCAN login_attempts" not in plan and "USING" in plan, (sql, plan)


@pytest.mark.parametrize(
    ("fragments", "index"),
    [
        # idle 'active' conversations: any index led by status keeps to the few active rows
        (("FROM conversations", "last_activity_at <"), "(status=?"),
        (("FROM conversations", "redacted_at IS NULL"), "ix_conversations_unredacted"),
        (("conversations.status = ? AND conversations.ended_at <",), "ix_conversations_ended"),
        (("FROM outbound_messages",), "ix_outbound_messages_unredacted"),
        (("FROM login_attempts",), "ix_login_attempts_at"),
        (("FROM training_candidates",), "ix_training_candidates_resolved_at"),
    ],
)
def test_retention_queries_use_indexes(engine, fragments, index):
    found = plans(
        engine,
        lambda s: retention.run(
            db_session=s,
            now=NOW,
            policy=retention.Policy(),
            model_dir=Path("/nonexistent"),
            owner="plan",
        ),
    )
    found = {sql: plan for sql, plan in found.items() if "LIMIT" in sql}  # the batch selects
    plan = plan_of(found, *fragments)
    assert index in plan, plan


def test_the_public_case_page_and_staff_views_use_indexes(engine, settings):
    """The case page's questions (case, events, linked reports, staff views) stay indexed."""
    from cases.case_page import case_page, find_case, record_staff_view
    from cases.models import Case
    from cases.service import create_case
    from cases.users import create_user
    from runtime import build_runtime
    from tests.fakes import FakeNLU

    rt = build_runtime(settings, FakeNLU())
    with make_session_factory(engine)() as s, s.begin():
        case = create_case(
            db_session=s,
            service_code="PW-POTHOLE",
            service_name="Pothole",
            agency_responsible="DPW",
            description="x",
            source="sms",
            address="120 Elm Street",
        )
        staff = create_user(db_session=s, username="lee", password="x" * 12, role="admin")
        ref, staff_id = f"{case.service_request_id}-{case.public_token}", staff.id

    def open_page(s):
        found = find_case(s, ref)
        assert isinstance(found, Case)
        record_staff_view(db_session=s, case=found, user_id=staff_id)
        case_page(db_session=s, case=found, wording=rt.bot.wording, policy=rt.catalog.policy)

    found = plans(engine, open_page)
    rt.db.dispose()
    assert "USING INDEX" in plan_of(found, "FROM cases", "service_request_id =")
    assert "ix_case_events_case_id" in plan_of(found, "FROM case_events", "case_id =")
    assert "ix_cases_duplicate_of" in plan_of(found, "FROM cases", "duplicate_of =")
    views = {sql: plan for sql, plan in found.items() if "FROM case_views" in sql}
    assert len(views) == 3  # the once-an-hour check, the count and latest, the recent days
    for sql, plan in views.items():
        assert "ix_case_views_case_user_at" in plan and "SCAN case_views" not in plan, (sql, plan)


def test_dashboard_outcomes_are_bounded_by_the_windows_cases(engine):
    found = plans(engine, lambda s: dashboard(db_session=s, now=NOW))
    events = plan_of(found, "FROM case_events", "requested_datetime >=")
    assert "ix_cases_requested_datetime" in events and "ix_case_events_case_id" in events
    answers = plan_of(found, "FROM fix_checks", "requested_datetime >=")
    assert "ix_cases_requested_datetime" in answers and "ix_fix_checks_case_id" in answers
    assert "ix_cases_status" in plan_of(found, "FROM cases", "cases.status =")


def test_dashboard_on_time_and_overdue_use_the_due_index(engine):
    from cases.deadlines import overdue_by_agency
    from cases.stats import on_time

    found = plans(engine, lambda s: on_time(db_session=s, now=NOW))
    assert "ix_cases_due_datetime" in plan_of(found, "FROM cases", "due_datetime >=")
    found = plans(engine, lambda s: overdue_by_agency(db_session=s, now=NOW))
    overdue = plan_of(found, "FROM cases", "due_datetime <")  # by the open statuses or due
    assert "SCAN cases" not in overdue and "USING INDEX ix_cases_" in overdue


def test_the_metrics_scrape_reads_queues_and_jobs_through_indexes(engine):
    from telemetry.store import StoreCollector

    collector = StoreCollector(make_session_factory(engine), replicas=list, clock=lambda: NOW)
    found = plans(engine, lambda s: list(collector.collect()))
    assert "ix_conversations_handoff" in plan_of(found, "FROM conversations", "handoff_status")
    assert "ix_outbound_due" in plan_of(found, "FROM outbound_messages")
    assert "ix_jobs_kind_status" in plan_of(found, "FROM jobs")
