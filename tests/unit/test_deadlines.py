"""Due dates on the city calendar: business days over weekends and holidays, set at filing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from cases.deadlines import HOLIDAYS_FILE, CityCalendar
from cases.migrate import upgrade
from cases.public import PublicPolicy, public_request
from cases.service import create_case

CAL = CityCalendar.load(HOLIDAYS_FILE, "America/New_York")


def test_the_holiday_file_names_each_holiday():
    assert CAL.holidays[date(2026, 9, 7)] == "Labor Day"
    assert CAL.holidays[date(2027, 7, 5)] == "Independence Day (observed)"


def test_one_business_day_from_friday_before_a_monday_holiday_is_tuesday():
    friday = date(2026, 9, 4)  # Labor Day is Monday 2026-09-07
    assert CAL.add_business_days(friday, 1) == date(2026, 9, 8)
    assert CAL.add_business_days(friday, 3) == date(2026, 9, 10)


def test_a_plain_weekend_is_skipped_and_weekdays_count():
    assert CAL.add_business_days(date(2026, 10, 16), 1) == date(2026, 10, 19)  # Fri -> Mon
    assert CAL.add_business_days(date(2026, 10, 13), 2) == date(2026, 10, 15)  # Tue -> Thu
    # Thanksgiving and the city's day after: Wed + 1 business day is the next Monday
    assert CAL.add_business_days(date(2026, 11, 25), 1) == date(2026, 11, 30)


def test_due_is_the_end_of_the_local_business_day_in_the_city_zone():
    # Friday 2026-09-04 22:30 in New York is already Saturday 02:30 UTC: the local day counts
    filed = datetime(2026, 9, 5, 2, 30, tzinfo=UTC)
    due = CAL.due(filed, 1)
    assert due == datetime(2026, 9, 9, 3, 59, 59, tzinfo=UTC)  # Tue 23:59:59 EDT


def test_due_date_is_stored_at_filing_and_is_open311_expected_datetime(database_url, db_session):
    upgrade(database_url)
    filed = datetime(2026, 9, 4, 15, 0, tzinfo=UTC)  # Friday 11:00 EDT
    case = create_case(
        db_session=db_session,
        service_code="pothole",
        service_name="Pothole",
        agency_responsible="Public Works",
        description="big hole",
        source="sms",
        address="120 Elm Street",
        expected_days=1,
        acknowledge_hours=24,
        calendar=CAL,
        now=filed,
    )
    db_session.commit()
    db_session.refresh(case)
    assert case.due_datetime == datetime(2026, 9, 9, 3, 59, 59, tzinfo=UTC)
    assert case.acknowledge_by == datetime(2026, 9, 5, 15, 0, tzinfo=UTC)
    shown = public_request(case, PublicPolicy())
    assert shown["expected_datetime"].startswith("2026-09-09T03:59:59")


def test_the_filing_reply_gives_the_due_date_in_words(runtime):
    from sqlalchemy import select

    from cases.models import Case
    from tests.console_helpers import text

    text(runtime, "there's a huge pothole on Elm St")
    text(runtime, "in front of 120")
    filed = text(runtime, "yes")
    with runtime.Session() as s:
        case = s.scalars(select(Case)).one()
    calendar = runtime.catalog.calendar
    day = calendar.local_day(case.due_datetime)
    assert calendar.is_business_day(day) and case.due_datetime > case.requested_datetime
    assert f"We aim to resolve it by {runtime.bot.wording.date(day)}." in filed.text
    assert case.expected_datetime == case.due_datetime


def test_the_overdue_list_counts_all_but_lists_only_the_longest_overdue(database_url, db_session):
    from cases.deadlines import digest_text, overdue_by_agency

    filed = datetime(2026, 9, 1, 15, 0, tzinfo=UTC)
    for n in range(7):
        create_case(
            db_session=db_session,
            service_code="pothole",
            service_name="Pothole",
            agency_responsible="Public Works" if n < 6 else "Parks",
            description="x",
            source="sms",
            address=f"{n + 1} Elm Street",
            expected_days=1 + n,  # the first is the longest overdue
            calendar=CAL,
            now=filed,
        )
    db_session.commit()
    now = datetime(2026, 10, 1, 15, 0, tzinfo=UTC)
    found = overdue_by_agency(db_session=db_session, now=now, limit=2)
    assert {a: o.total for a, o in found.items()} == {"Parks": 1, "Public Works": 6}
    works = found["Public Works"]
    assert [c.address for c in works.cases] == ["1 Elm Street", "2 Elm Street"]
    text = digest_text("Public Works", works, calendar=CAL, now=now, city="Riverton")
    assert text.startswith("Riverton 311: 6 overdue cases for Public Works")
    assert "... and 4 more" in text
