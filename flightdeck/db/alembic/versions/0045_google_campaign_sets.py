"""Campaign sets may target Google Ads (issue 14): `campaign_sets`, `sync_records` and
`sync_conflicts` accept platform `google`. (0044 did the same for accounts and OAuth states;
it is already applied where main ran, so this is a migration of its own.)

Revision ID: 0045
Revises: 0044
"""

from __future__ import annotations

from alembic import op

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None

WITH_GOOGLE = "platform IN ('reddit', 'google')"
REDDIT_ONLY = "platform IN ('reddit')"
TABLES = ("campaign_sets", "sync_records", "sync_conflicts")


def _platform_check(table: str, rule: str) -> None:
    op.drop_constraint(op.f(f"ck_{table}_platform"), table, type_="check")
    op.create_check_constraint(op.f(f"ck_{table}_platform"), table, rule)


def upgrade() -> None:
    for table in TABLES:
        _platform_check(table, WITH_GOOGLE)


def downgrade() -> None:
    for table in ("sync_conflicts", "sync_records", "campaign_sets"):
        op.execute(f"DELETE FROM {table} WHERE platform = 'google'")
    for table in TABLES:
        _platform_check(table, REDDIT_ONLY)
