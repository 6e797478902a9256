"""outbox: a claim token per lease, client-error count, give-up time

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column('client_errors', sa.Integer(), nullable=False, server_default='0')
        )
        batch_op.add_column(sa.Column('give_up_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('give_up_at')
        batch_op.drop_column('client_errors')
        batch_op.drop_column('claim_token')
