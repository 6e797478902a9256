"""outbox: in-doubt deliveries

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 02:33:09.682594
"""
from alembic import op
import sqlalchemy as sa
import cases.models


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('in_doubt', sa.Boolean(), nullable=False, server_default=sa.false())
        )



def downgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('in_doubt')

