"""The duplicate check runs on every filing: one indexed row, however many reports are open."""

from __future__ import annotations

from sqlalchemy import event

from cases.models import utcnow
from cases.service import create_case, find_duplicate


def _file(s, address: str, code: str = "PW-POTHOLE") -> int:
    return create_case(
        db_session=s,
        service_code=code,
        service_name="Pothole",
        agency_responsible="Public Works",
        description="deep hole",
        source="sms",
        address=address,
    ).id


def test_the_earliest_open_case_at_the_address_is_found_reading_one_indexed_row(runtime):
    with runtime.Session() as s, s.begin():
        _file(s, "9 Oak Avenue")
        first = _file(s, "120 Elm Street")
        for _ in range(40):
            _file(s, "120 Elm Street")
        _file(s, "120 Elm Street", code="SAN-MISSED")
    statements: list[tuple[str, object]] = []
    with runtime.Session() as s:
        connection = s.connection()
        event.listen(connection, "before_cursor_execute", lambda *a: statements.append(a[2:4]))
        found = find_duplicate(
            db_session=s,
            service_code="PW-POTHOLE",
            address="120 ELM STREET",
            lat=None,
            long=None,
            now=utcnow(),
        )
        assert found is not None and found.id == first
        sql, params = next(q for q in statements if "FROM cases" in q[0])
        assert "LIMIT" in sql.upper()
        if connection.dialect.name == "sqlite":  # PostgreSQL plans by its statistics
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
            assert "ix_cases_duplicate_lookup" in " ".join(str(row[-1]) for row in plan)
