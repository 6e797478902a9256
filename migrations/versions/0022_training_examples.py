"""training_examples: NLU training data in the store (seeded once per language), snapshots per version

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 14:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("normalized", sa.String(length=600), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_examples")),
        sa.UniqueConstraint(
            "language", "normalized", name="uq_training_examples_language_normalized"
        ),
    )
    op.create_index(
        "ix_training_examples_language_intent",
        "training_examples",
        ["language", "intent", "position"],
        unique=False,
    )
    op.create_table(
        "training_data_seeds",
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("intents", sa.JSON(), nullable=False),
        sa.Column("extra_yaml", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("seeded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("language", name=op.f("pk_training_data_seeds")),
    )
    op.create_table(
        "training_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.id"],
            name=op.f("fk_training_snapshots_version_id_model_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_snapshots")),
        sa.UniqueConstraint("version_id", name=op.f("uq_training_snapshots_version_id")),
    )


def downgrade() -> None:
    op.drop_table("training_snapshots")
    op.drop_table("training_data_seeds")
    op.drop_index("ix_training_examples_language_intent", table_name="training_examples")
    op.drop_table("training_examples")
