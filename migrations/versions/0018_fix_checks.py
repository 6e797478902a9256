"""fix_checks: "Was it fixed?" questions to reporters after a closing as fixed, and answers

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'fix_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('closing_event_id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=64), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('outbound_message_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ask_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('answer', sa.String(length=8), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('rating', sa.Integer(), nullable=True),
        sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_fix_checks_case_id_cases')),
        sa.ForeignKeyConstraint(
            ['closing_event_id'],
            ['case_events.id'],
            name=op.f('fk_fix_checks_closing_event_id_case_events'),
        ),
        sa.ForeignKeyConstraint(
            ['outbound_message_id'],
            ['outbound_messages.id'],
            name=op.f('fk_fix_checks_outbound_message_id_outbound_messages'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fix_checks')),
    )
    op.create_index(op.f('ix_fix_checks_case_id'), 'fix_checks', ['case_id'], unique=False)
    op.create_index(
        'uq_fix_checks_closing_phone', 'fix_checks', ['closing_event_id', 'phone'], unique=True
    )
    op.create_index('ix_fix_checks_phone_status', 'fix_checks', ['phone', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fix_checks_phone_status', table_name='fix_checks')
    op.drop_index('uq_fix_checks_closing_phone', table_name='fix_checks')
    op.drop_index(op.f('ix_fix_checks_case_id'), table_name='fix_checks')
    op.drop_table('fix_checks')
