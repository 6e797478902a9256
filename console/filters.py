"""Reading list filters from the query string."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import request


def day(name: str, *, end: bool = False) -> datetime | None:
    """A YYYY-MM-DD query parameter as a UTC datetime (the end of that day when end=True)."""
    raw = request.args.get(name, "").strip()
    try:
        value = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return value + timedelta(days=1) if end else value


def flag(name: str) -> bool:
    """A checkbox query parameter."""
    return request.args.get(name) in {"1", "on", "true", "yes"}


def page() -> int:
    """The page number (1-based)."""
    return max(request.args.get("page", 1, type=int) or 1, 1)


def choice(name: str, allowed: tuple[str, ...]) -> str:
    """A select's value if it is one of the choices; anything else means 'any', like a bad date."""
    value = request.args.get(name, "").strip()
    return value if value in allowed else ""
