"""artifacts: one store by key for photos and models; nlu_targets and rasa_replicas (the fleet)

Photos' bytes move from media_blobs to artifacts. Model versions' absolute paths become artifact
keys: a model file still on this machine's disk is uploaded under models/vN/model.tar.gz; a
path to a file that is gone is cleared (it could not be activated anyway).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 03:30:00
"""

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    artifacts = op.create_table(
        "artifacts",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_artifacts")),
    )
    op.execute(
        "INSERT INTO artifacts (key, content_type, size, data, created_at) "
        "SELECT key, content_type, size, data, created_at FROM media_blobs"
    )
    op.drop_table("media_blobs")
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, model_path FROM model_versions WHERE model_path IS NOT NULL")
    ).all()
    for version_id, path in rows:
        file = Path(path)
        if not file.is_absolute():
            continue  # already a key
        if not file.is_file():
            conn.execute(
                sa.text("UPDATE model_versions SET model_path = NULL WHERE id = :id"),
                {"id": version_id},
            )
            continue
        data, key = file.read_bytes(), f"models/v{version_id}/model.tar.gz"
        conn.execute(
            artifacts.insert().values(
                key=key,
                content_type="application/gzip",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
                created_at=datetime.now(UTC),
            )
        )
        conn.execute(
            sa.text("UPDATE model_versions SET model_path = :key WHERE id = :id"),
            {"key": key, "id": version_id},
        )
    op.create_table(
        "nlu_targets",
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_nlu_targets_version_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"],
            ["model_versions.id"],
            name=op.f("fk_nlu_targets_previous_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_nlu_targets_job_id_jobs")),
        sa.PrimaryKeyConstraint("language", name=op.f("pk_nlu_targets")),
    )
    op.create_table(
        "rasa_replicas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("machine", sa.String(length=128), nullable=False),
        sa.Column("url", sa.String(length=255), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rasa_replicas")),
        sa.UniqueConstraint("machine", "url", name="uq_rasa_replicas_machine_url"),
    )
    op.create_index("ix_rasa_replicas_seen_at", "rasa_replicas", ["seen_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rasa_replicas_seen_at", table_name="rasa_replicas")
    op.drop_table("rasa_replicas")
    op.drop_table("nlu_targets")
    op.create_table(
        "media_blobs",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_media_blobs")),
    )
    op.execute(
        "INSERT INTO media_blobs (key, content_type, size, data, created_at) "
        "SELECT key, content_type, size, data, created_at FROM artifacts "
        "WHERE key NOT LIKE 'models/%'"
    )
    op.drop_table("artifacts")
