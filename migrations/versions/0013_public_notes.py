"""cases: internal notes split from the public status note (old notes become internal);
deferred_messages: inbound messages answered later (NLU down, a webhook failure)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 08:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('internal_notes', sa.Text(), nullable=True))
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_note', sa.Text(), nullable=True))
    op.create_table(
        'deferred_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('sender', sa.String(length=64), nullable=False),
        sa.Column('message_id', sa.String(length=128), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('claim_token', sa.String(length=32), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deferred_messages')),
        sa.UniqueConstraint('message_id', name=op.f('uq_deferred_messages_message_id')),
    )
    op.create_index('ix_deferred_due', 'deferred_messages', ['status', 'next_attempt_at'])
    # Notes typed before the split were written for one resident, not for publication.
    op.execute("UPDATE cases SET internal_notes = status_notes, status_notes = NULL")


def downgrade() -> None:
    op.drop_index('ix_deferred_due', table_name='deferred_messages')
    op.drop_table('deferred_messages')
    op.execute(
        "UPDATE cases SET status_notes = COALESCE(status_notes, internal_notes)"
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_column('public_note')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('internal_notes')
