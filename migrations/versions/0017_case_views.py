"""case_views: each time a signed-in member of staff opened a case in the console (at most one
per member of staff per case per hour), so the public case page can tell the resident how many
staff looked at their case and when

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_views',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_views_case_id_cases')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_views_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_views')),
    )
    op.create_index('ix_case_views_case_user_at', 'case_views', ['case_id', 'user_id', 'at'])


def downgrade() -> None:
    op.drop_index('ix_case_views_case_user_at', table_name='case_views')
    op.drop_table('case_views')
