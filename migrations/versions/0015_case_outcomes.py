"""cases: statuses beyond open/closed (open cases become 'received'), who has a case, how it
was closed (resolution code and detail), reopen count, whether the reporter wants texts, the
public page token; case_followers: numbers that asked for a case's updates

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 00:50:00
"""
import secrets

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

TOKEN_ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_to', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('resolution', sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column('resolution_detail', sa.JSON(), nullable=False, server_default='{}')
        )
        batch_op.add_column(
            sa.Column('closed_datetime', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column('reopen_count', sa.Integer(), nullable=False, server_default=sa.text('0'))
        )
        batch_op.add_column(
            sa.Column('updates_wanted', sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column('public_token', sa.String(length=16), nullable=True))
        batch_op.create_index('ix_cases_duplicate_of', ['duplicate_of'])
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('resolution_detail', server_default=None)
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolution', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('assigned_to', sa.String(length=128), nullable=True))
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE cases SET status = 'received' WHERE status = 'open'"))
    conn.execute(
        sa.text("UPDATE cases SET closed_datetime = updated_datetime WHERE status = 'closed'")
    )
    for column in ('from_status', 'to_status'):
        conn.execute(
            sa.text(f"UPDATE case_events SET {column} = 'received' WHERE {column} = 'open'")
        )
    ids = [row[0] for row in conn.execute(sa.text('SELECT id FROM cases'))]
    for case_id in ids:
        token = ''.join(secrets.choice(TOKEN_ALPHABET) for _ in range(6))
        conn.execute(
            sa.text('UPDATE cases SET public_token = :t WHERE id = :i'),
            {'t': token, 'i': case_id},
        )
    op.create_table(
        'case_followers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=64), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['case_id'], ['cases.id'], name=op.f('fk_case_followers_case_id_cases')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_followers')),
    )
    op.create_index(
        'uq_case_followers_case_phone', 'case_followers', ['case_id', 'phone'], unique=True
    )


def downgrade() -> None:
    op.drop_index('uq_case_followers_case_phone', table_name='case_followers')
    op.drop_table('case_followers')
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE cases SET status = 'open' WHERE status <> 'closed'"))
    for column in ('from_status', 'to_status'):
        conn.execute(
            sa.text(
                f"UPDATE case_events SET {column} = 'open' "
                f"WHERE {column} IS NOT NULL AND {column} <> 'closed'"
            )
        )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_column('assigned_to')
        batch_op.drop_column('resolution')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_duplicate_of')
        for column in (
            'public_token', 'updates_wanted', 'reopen_count', 'closed_datetime',
            'resolution_detail', 'resolution', 'assigned_to',
        ):
            batch_op.drop_column(column)
