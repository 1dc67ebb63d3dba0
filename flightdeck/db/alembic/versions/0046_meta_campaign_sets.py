"""Campaign sets may target Meta (issue 14 item 4): `campaign_sets`, `sync_records`,
`sync_conflicts`, `ad_accounts` and `oauth_states` accept platform `meta`; a Meta ad account
row names the Meta connection it acts through (`ad_accounts.meta_connection_id`); keywords
can be `not_applicable` (Meta has none) with the reason in `keywords.sync_reason`.

Revision ID: 0046
Revises: 0041
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0046"
down_revision = "0041"
branch_labels = None
depends_on = None

WITH_META = "platform IN ('reddit', 'google', 'meta')"
WITHOUT_META = "platform IN ('reddit', 'google')"
TABLES = ("campaign_sets", "sync_records", "sync_conflicts", "ad_accounts", "oauth_states")
KEYWORD_STATUSES = "sync_status IN ('pending', 'syncing', 'synced', 'failed', 'conflict'{})"


def _check(table: str, column: str, rule: str) -> None:
    op.drop_constraint(op.f(f"ck_{table}_{column}"), table, type_="check")
    op.create_check_constraint(op.f(f"ck_{table}_{column}"), table, rule)


def upgrade() -> None:
    for table in TABLES:
        _check(table, "platform", WITH_META)
    _check("keywords", "sync_status", KEYWORD_STATUSES.format(", 'not_applicable'"))
    op.add_column("keywords", sa.Column("sync_reason", sa.Text(), nullable=True))
    op.add_column("ad_accounts", sa.Column("meta_connection_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_ad_accounts_meta_connection_id_campaign_meta_connections"),
        "ad_accounts",
        "campaign_meta_connections",
        ["meta_connection_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        op.f("ix_ad_accounts_meta_connection_id"), "ad_accounts", ["meta_connection_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ad_accounts_meta_connection_id"), table_name="ad_accounts")
    op.drop_constraint(
        op.f("fk_ad_accounts_meta_connection_id_campaign_meta_connections"),
        "ad_accounts",
        type_="foreignkey",
    )
    op.drop_column("ad_accounts", "meta_connection_id")
    op.execute("UPDATE keywords SET sync_status = 'pending' WHERE sync_status = 'not_applicable'")
    op.drop_column("keywords", "sync_reason")
    _check("keywords", "sync_status", KEYWORD_STATUSES.format(""))
    for table in ("sync_conflicts", "sync_records", "campaign_sets", "oauth_states"):
        op.execute(f"DELETE FROM {table} WHERE platform = 'meta'")
    op.execute("DELETE FROM ad_accounts WHERE platform = 'meta'")
    for table in TABLES:
        _check(table, "platform", WITHOUT_META)
