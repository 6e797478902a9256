"""request_ids: outbound_messages.request_id, the web request that queued the text (for logs)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 15:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages") as batch:
        batch.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbound_messages") as batch:
        batch.drop_column("request_id")
