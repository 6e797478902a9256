"""open_data: index on cases.updated_datetime (updated_after, open data), catalogue changesets

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 13:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_updated_datetime", "cases", ["updated_datetime"], unique=False)
    op.create_table(
        "catalog_changesets",
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("content_hash", name=op.f("pk_catalog_changesets")),
    )


def downgrade() -> None:
    op.drop_table("catalog_changesets")
    op.drop_index("ix_cases_updated_datetime", table_name="cases")
