"""The audit log: every state-changing staff action, with who and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.admin_models import AuditEntry, User
from cases.models import utcnow


def record(
    *,
    db_session: Session,
    actor: User | None,
    action: str,
    target_type: str = "",
    target_id: object = "",
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
    actor_name: str = "system",
) -> AuditEntry:
    """Write one audit entry inside the caller's transaction (it commits with the change).

    actor_name names a job (e.g. "retention") when no staff member acted.
    """
    entry = AuditEntry(
        at=now or utcnow(),
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else actor_name,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        detail=detail or {},
    )
    db_session.add(entry)
    return entry


def recent(*, db_session: Session, limit: int = 200) -> list[AuditEntry]:
    """The newest audit entries."""
    return list(db_session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
