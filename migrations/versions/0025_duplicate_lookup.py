"""duplicate_lookup: an index on cases (service_code, lower(address)) for the duplicate check

Every filed report looks for an open case of the same service at the same address; without it
the check read every open case of the service (ten times the rest of a filing's work once a
few hundred potholes were open).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 16:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_duplicate_lookup",
        "cases",
        ["service_code", sa.text("lower(address)")],
    )


def downgrade() -> None:
    op.drop_index("ix_cases_duplicate_lookup", table_name="cases")
