"""notices: city notices shown by the bot, and residents' alert subscriptions (with consent)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('texts', sa.JSON(), nullable=False),
        sa.Column('streets', sa.JSON(), nullable=False),
        sa.Column('service_codes', sa.JSON(), nullable=False),
        sa.Column('kb_intents', sa.JSON(), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('parent_case_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('broadcast_queued', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('broadcast_skipped', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.ForeignKeyConstraint(
            ['parent_case_id'], ['cases.id'], name=op.f('fk_notices_parent_case_id_cases')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    )
    op.create_index(op.f('ix_notices_starts_at'), 'notices', ['starts_at'], unique=False)
    op.create_index(op.f('ix_notices_ends_at'), 'notices', ['ends_at'], unique=False)
    op.create_table(
        'alert_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=64), nullable=False),
        sa.Column('service_codes', sa.JSON(), nullable=False),
        sa.Column('street', sa.String(length=128), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('consented_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('source_text', sa.String(length=320), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_subscriptions')),
    )
    op.create_index(
        op.f('ix_alert_subscriptions_phone'), 'alert_subscriptions', ['phone'], unique=False
    )
    op.create_index(
        op.f('ix_alert_subscriptions_ended_at'), 'alert_subscriptions', ['ended_at'], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_alert_subscriptions_ended_at'), table_name='alert_subscriptions')
    op.drop_index(op.f('ix_alert_subscriptions_phone'), table_name='alert_subscriptions')
    op.drop_table('alert_subscriptions')
    op.drop_index(op.f('ix_notices_ends_at'), table_name='notices')
    op.drop_index(op.f('ix_notices_starts_at'), table_name='notices')
    op.drop_table('notices')
