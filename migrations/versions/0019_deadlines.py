"""deadlines: a case's due date and acknowledge-by time, indexed for the overdue list

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('due_datetime', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('acknowledge_by', sa.DateTime(timezone=True), nullable=True))
    # cases filed before this were expected by a calendar-day count: that is their due date
    op.execute('UPDATE cases SET due_datetime = expected_datetime WHERE due_datetime IS NULL')
    op.create_index('ix_cases_due_datetime', 'cases', ['due_datetime'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_due_datetime', table_name='cases')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('acknowledge_by')
        batch.drop_column('due_datetime')
