"""Sync-back of every field at every level (issues 8, 9): an entity may be `archived` (taken
from the platform, never pushed back as anything else), conflicts may be on ads, and a
cycle's run row can hold deletions for a person to release or discard.

Revision ID: 0042
Revises: 0031
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0042"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "('draft', 'pending', 'active', 'paused', 'completed', 'error')"
NEW_STATUSES = "('draft', 'pending', 'active', 'paused', 'archived', 'completed', 'error')"
STATUS_TABLES = ("generated_campaigns", "ad_groups", "generated_ads", "keywords")


def _status_checks(statuses: str) -> None:
    for table in STATUS_TABLES:
        op.drop_constraint(op.f(f"ck_{table}_status"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_status"), table, f"status IN {statuses}")


def upgrade() -> None:
    _status_checks(NEW_STATUSES)
    op.drop_constraint(op.f("ck_sync_conflicts_entity_type"), "sync_conflicts", type_="check")
    op.create_check_constraint(
        op.f("ck_sync_conflicts_entity_type"),
        "sync_conflicts",
        "entity_type IN ('campaign', 'ad_group', 'ad')",
    )
    op.add_column(
        "sync_back_runs",
        sa.Column("held_deletions", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column("sync_back_runs", sa.Column("hold_status", sa.String(length=20), nullable=True))
    op.create_check_constraint(
        op.f("ck_sync_back_runs_hold_status"),
        "sync_back_runs",
        "hold_status IN ('held', 'released', 'discarded', 'superseded')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_sync_back_runs_hold_status"), "sync_back_runs", type_="check")
    op.drop_column("sync_back_runs", "hold_status")
    op.drop_column("sync_back_runs", "held_deletions")
    op.execute("DELETE FROM sync_conflicts WHERE entity_type = 'ad'")
    op.drop_constraint(op.f("ck_sync_conflicts_entity_type"), "sync_conflicts", type_="check")
    op.create_check_constraint(
        op.f("ck_sync_conflicts_entity_type"),
        "sync_conflicts",
        "entity_type IN ('campaign', 'ad_group')",
    )
    for table in STATUS_TABLES:
        op.execute(f"UPDATE {table} SET status = 'paused' WHERE status = 'archived'")
    _status_checks(OLD_STATUSES)
