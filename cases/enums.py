"""The case store's vocabularies: case statuses and the outcomes a closed case can have."""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    """Where a case is in its life; Open311 sees every status but `closed` as `open`."""

    RECEIVED = "received"  # filed, nobody has picked it up yet
    ASSIGNED = "assigned"  # an agency or crew has it (Case.assigned_to)
    IN_PROGRESS = "in_progress"  # work has started
    REOPENED = "reopened"  # the resident said it was not fixed: back in the agency's queue
    CLOSED = "closed"  # done, with a resolution code


OPEN_STATUSES = tuple(s.value for s in CaseStatus if s is not CaseStatus.CLOSED)
STATUSES = tuple(s.value for s in CaseStatus)


class Resolution(StrEnum):
    """Why a case was closed: required on closing, shown to the public with the public note."""

    FIXED = "fixed"
    DUPLICATE = "duplicate"  # of another case (Case.duplicate_of)
    REFERRED = "referred"  # not the city's: to whom, with their phone number
    NO_ACTION_NEEDED = "no_action_needed"
    UNABLE_TO_ACT = "unable_to_act"  # with a reason


RESOLUTIONS = tuple(r.value for r in Resolution)


def open311_status(status: str) -> str:
    """GeoReport v2 knows only open and closed."""
    return "closed" if status == CaseStatus.CLOSED else "open"
