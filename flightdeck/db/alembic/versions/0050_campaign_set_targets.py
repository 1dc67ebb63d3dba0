"""`campaign_set_targets`: the ad accounts a campaign set is synced to, at most one per platform
(issue 14 item 2). Backfilled with one target per existing set, from its `platform` and
`ad_account_id` (which stay, as the first target's mirror, for the API's older fields).

Revision ID: 0050
Revises: 0049
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from flightdeck.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0050"
down_revision = "0049"
branch_labels = None
depends_on = None

TABLE = "campaign_set_targets"
PLATFORMS = "platform IN ('reddit', 'google', 'meta')"
SYNC_STATUSES = "sync_status IN ('pending', 'syncing', 'synced', 'failed', 'conflict')"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_set_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("ad_account_id", sa.Uuid(), nullable=True),
        sa.Column("sync_status", sa.String(20), server_default="pending", nullable=False),
        sa.Column("sync_error", sa.Text(), nullable=True),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(PLATFORMS, name=op.f("ck_campaign_set_targets_platform")),
        sa.CheckConstraint(SYNC_STATUSES, name=op.f("ck_campaign_set_targets_sync_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_campaign_set_targets_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_set_id"],
            ["campaign_sets.id"],
            name=op.f("fk_campaign_set_targets_campaign_set_id_campaign_sets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ad_account_id"],
            ["ad_accounts.id"],
            name=op.f("fk_campaign_set_targets_ad_account_id_ad_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_set_targets")),
        sa.UniqueConstraint(
            "campaign_set_id",
            "platform",
            name=op.f("uq_campaign_set_targets_campaign_set_id_platform"),
        ),
    )
    op.create_index("ix_campaign_set_targets_tenant_set", TABLE, ["tenant_id", "campaign_set_id"])
    op.create_index(op.f("ix_campaign_set_targets_ad_account_id"), TABLE, ["ad_account_id"])
    enable_tenant_rls(TABLE)
    # Row-level security applies to the table's owner too (FORCE): backfill in the system scope.
    op.execute("SELECT set_config('flightdeck.tenant_id', '*', true)")
    op.execute(
        f"""INSERT INTO {TABLE} (tenant_id, campaign_set_id, position, platform, ad_account_id,
                                 sync_status, last_synced_at)
            SELECT tenant_id, id, 0, platform, ad_account_id, sync_status, last_synced_at
            FROM campaign_sets
            ON CONFLICT (campaign_set_id, platform) DO NOTHING"""
    )


def downgrade() -> None:
    disable_tenant_rls(TABLE)
    op.drop_index(op.f("ix_campaign_set_targets_ad_account_id"), table_name=TABLE)
    op.drop_index("ix_campaign_set_targets_tenant_set", table_name=TABLE)
    op.drop_table(TABLE)
