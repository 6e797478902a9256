"""photos: residents' MMS photos and staff uploads (reviewed before they are public), and the
database implementation of the media store that holds their bytes

New tables only, so it can follow any other revision.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'photos',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('conversation_id', sa.Integer(), nullable=True),
        sa.Column('message_sid', sa.String(length=128), nullable=True),
        sa.Column('media_index', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('refusal', sa.String(length=32), nullable=True),
        sa.Column('review', sa.String(length=16), nullable=False),
        sa.Column('reviewed_by', sa.String(length=64), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('twilio_url', sa.String(length=1024), nullable=True),
        sa.Column('content_type', sa.String(length=64), nullable=False),
        sa.Column('upload_key', sa.String(length=128), nullable=True),
        sa.Column('image_key', sa.String(length=128), nullable=True),
        sa.Column('thumb_key', sa.String(length=128), nullable=True),
        sa.Column('public_key', sa.String(length=128), nullable=True),
        sa.Column('public_thumb_key', sa.String(length=128), nullable=True),
        sa.Column('image_type', sa.String(length=32), nullable=True),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('size_bytes', sa.Integer(), nullable=True),
        sa.Column('blurs', sa.JSON(), nullable=False),
        sa.Column('work', sa.String(length=16), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claim_token', sa.String(length=32), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('uploaded_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_photos_case_id_cases')),
        sa.ForeignKeyConstraint(
            ['conversation_id'],
            ['conversations.id'],
            name=op.f('fk_photos_conversation_id_conversations'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_photos')),
        sa.UniqueConstraint('token', name=op.f('uq_photos_token')),
        sa.UniqueConstraint(
            'message_sid', 'media_index', name='uq_photos_message_sid_media_index'
        ),
    )
    op.create_index('ix_photos_case_id', 'photos', ['case_id'])
    op.create_index('ix_photos_conversation_id', 'photos', ['conversation_id'])
    op.create_index('ix_photos_due', 'photos', ['work', 'next_attempt_at'])
    op.create_table(
        'media_blobs',
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('content_type', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_media_blobs')),
    )


def downgrade() -> None:
    op.drop_table('media_blobs')
    op.drop_index('ix_photos_due', table_name='photos')
    op.drop_index('ix_photos_conversation_id', table_name='photos')
    op.drop_index('ix_photos_case_id', table_name='photos')
    op.drop_table('photos')
