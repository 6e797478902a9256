"""turns: the NLU's top three intents, and why a danger was seen

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 05:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('turns', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('ranking', sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column('danger', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('turns', schema=None) as batch_op:
        batch_op.drop_column('danger')
        batch_op.drop_column('ranking')
