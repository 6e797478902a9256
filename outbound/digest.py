"""The daily overdue digest: one plain-text e-mail per agency through an SMTP server (smtplib).

Sent when CIVICLINE_SMTP_URL and CIVICLINE_DIGEST_TO are set, once a day by
outbound/digest_worker.py (or by hand: `flask --app app cases overdue --send`); otherwise
staff read the same lists at /console/overdue.
"""

from __future__ import annotations

import smtplib
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from cases.deadlines import CityCalendar, digest_text, overdue_by_agency
from settings import Settings


def smtp_address(url: str) -> tuple[str, int]:
    """(host, port) of smtp://host[:port]."""
    parts = urlsplit(url)
    return parts.hostname or "localhost", parts.port or 25


def digests(
    *, db_session: Session, calendar: CityCalendar, now: datetime, city: str
) -> dict[str, str]:
    """Agency -> the text of its digest, for the agencies with overdue cases."""
    return {
        agency: digest_text(agency, overdue, calendar=calendar, now=now, city=city)
        for agency, overdue in overdue_by_agency(db_session=db_session, now=now, limit=200).items()
    }


def send_digests(
    *, settings: Settings, db_session: Session, calendar: CityCalendar, now: datetime
) -> int:
    """E-mail each agency's digest to the digest addresses; the number of e-mails sent."""
    if not settings.smtp_url or not settings.digest_to:
        raise ValueError("set CIVICLINE_SMTP_URL and CIVICLINE_DIGEST_TO to e-mail the digest")
    texts = digests(db_session=db_session, calendar=calendar, now=now, city=settings.city_name)
    if not texts:
        return 0
    host, port = smtp_address(settings.smtp_url)
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        for agency, body in texts.items():
            message = EmailMessage()
            message["From"] = settings.digest_from
            message["To"] = ", ".join(settings.digest_to)
            message["Subject"] = (
                f"{settings.city_name} 311: overdue cases for {agency}, "
                f"{calendar.local_day(now).isoformat()}"
            )
            message.set_content(body)
            smtp.send_message(message)
    return len(texts)
