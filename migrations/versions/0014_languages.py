"""languages: each conversation and case has one (en, es...); the language a phone number last
used is remembered for its next conversation; model versions are trained per language

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 11:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('conversations', 'cases', 'model_versions'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('language', sa.String(length=8), nullable=False, server_default='en')
            )
    op.create_index('ix_conversations_language', 'conversations', ['language'])
    op.create_index('ix_cases_language', 'cases', ['language'])
    op.create_table(
        'resident_languages',
        sa.Column('phone', sa.String(length=64), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('chosen', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('phone', name=op.f('pk_resident_languages')),
    )


def downgrade() -> None:
    op.drop_table('resident_languages')
    op.drop_index('ix_cases_language', table_name='cases')
    op.drop_index('ix_conversations_language', table_name='conversations')
    for table in ('model_versions', 'cases', 'conversations'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('language')
