"""`unmarked_creates`: creates and lookups of platform objects that carry no marker of ours (a
Reddit post), shared by every tenant, so a lookup after a lost answer never takes a post another
create has just made and not yet recorded (`activities.unmarked_creates`). No tenant column: a
row holds opaque hashes (owner, content) and the post id it claims, like `circuit_breakers`.

Revision ID: 0052
Revises: 0051
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0052"
down_revision = "0051"
branch_labels = None
depends_on = None

TABLE = "unmarked_creates"
STATES = "state IN ('in_flight', 'lost', 'looking', 'done')"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("scope", sa.String(255), nullable=False),
        sa.Column("content_key", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("remote_id", sa.String(255), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(STATES, name=op.f("ck_unmarked_creates_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmarked_creates")),
    )
    op.create_index(
        "ix_unmarked_creates_open",
        TABLE,
        ["platform", "scope", "content_key"],
        postgresql_where=sa.text("state <> 'done'"),
    )
    op.create_index(
        "uq_unmarked_creates_platform_remote_id",
        TABLE,
        ["platform", "remote_id"],
        unique=True,
        postgresql_where=sa.text("remote_id IS NOT NULL"),
    )
    op.create_index("ix_unmarked_creates_owner", TABLE, ["platform", "owner"])


def downgrade() -> None:
    op.drop_table(TABLE)
