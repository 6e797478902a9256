"""retention: job lock table, redaction markers, indexes for every console and job filter

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('locked_by', sa.String(length=128), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_result', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_runs'))
    )

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_conversations_started_at', ['started_at'], unique=False)
        batch_op.create_index('ix_conversations_ended', ['status', 'ended_at'], unique=False)
        batch_op.create_index(
            'ix_conversations_unredacted', ['status', 'redacted_at', 'ended_at'], unique=False
        )

    with op.batch_alter_table('turns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_turns_received_at'), ['received_at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_cases_conversation_id'), ['conversation_id'], unique=False
        )

    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_outbound_messages_conversation_id'), ['conversation_id'], unique=False
        )
        batch_op.create_index(
            batch_op.f('ix_outbound_messages_case_id'), ['case_id'], unique=False
        )
        batch_op.create_index(
            'ix_outbound_messages_unredacted', ['redacted_at', 'created_at'], unique=False
        )

    # the sign-in limiter filters on (username, at) and (ip, at): composites replace the
    # single-column indexes, which are their prefixes
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_username')
        batch_op.drop_index('ix_login_attempts_ip')
        batch_op.create_index('ix_login_attempts_username_at', ['username', 'at'], unique=False)
        batch_op.create_index('ix_login_attempts_ip_at', ['ip', 'at'], unique=False)

    with op.batch_alter_table('training_candidates', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_training_candidates_resolved_at'), ['resolved_at'], unique=False
        )

    with op.batch_alter_table('model_versions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('files_deleted_at', sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('model_versions', schema=None) as batch_op:
        batch_op.drop_column('files_deleted_at')

    with op.batch_alter_table('training_candidates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_candidates_resolved_at'))

    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_ip_at')
        batch_op.drop_index('ix_login_attempts_username_at')
        batch_op.create_index('ix_login_attempts_ip', ['ip'], unique=False)
        batch_op.create_index('ix_login_attempts_username', ['username'], unique=False)

    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_messages_unredacted')
        batch_op.drop_index(batch_op.f('ix_outbound_messages_case_id'))
        batch_op.drop_index(batch_op.f('ix_outbound_messages_conversation_id'))
        batch_op.drop_column('redacted_at')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_conversation_id'))

    with op.batch_alter_table('turns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_turns_received_at'))

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_unredacted')
        batch_op.drop_index('ix_conversations_ended')
        batch_op.drop_index('ix_conversations_started_at')
        batch_op.drop_column('redacted_at')

    op.drop_table('job_runs')
