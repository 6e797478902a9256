"""open311: api keys, contact fields, duplicates

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 01:57:44.530400
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_email', sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column('contact_name', sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column('media_url', sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column('address_id', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('api_key_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_cases_duplicate_of_cases', 'cases', ['duplicate_of'], ['id'])
        batch_op.create_foreign_key('fk_cases_api_key_id_api_keys', 'api_keys', ['api_key_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint('fk_cases_api_key_id_api_keys', type_='foreignkey')
        batch_op.drop_constraint('fk_cases_duplicate_of_cases', type_='foreignkey')
        batch_op.drop_column('api_key_id')
        batch_op.drop_column('duplicate_of')
        batch_op.drop_column('address_id')
        batch_op.drop_column('media_url')
        batch_op.drop_column('contact_name')
        batch_op.drop_column('contact_email')

    op.drop_table('api_keys')
