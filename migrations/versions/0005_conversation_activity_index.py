"""index conversations by last activity

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 02:06:49.424725
"""
from alembic import op
import sqlalchemy as sa
import cases.models


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_last_activity', ['last_activity_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_last_activity')

