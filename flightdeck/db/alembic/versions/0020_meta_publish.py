"""Seed 001, publishing to the Meta Graph API: Meta connections, wizard campaigns and their
sections, ads, published campaigns, the ledger's link to a Meta campaign, and the audit archive.
Every new table is tenant-owned under row-level security.

Revision ID: 0020
Revises: 0010 (branched from 0004; re-chained onto main's latest, 0010)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from flightdeck.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "0020"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "audit_log_archive",
    "campaign_meta_connections",
    "meta_campaigns",
    "campaign_states",
    "meta_ads",
    "meta_published_campaigns",
)


def upgrade() -> None:
    op.create_table(
        "audit_log_archive",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=100), nullable=False),
        sa.Column("entity_id", sa.String(length=400), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "archived_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_audit_log_archive_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_archive")),
    )
    op.create_index(
        "ix_audit_log_archive_tenant_created",
        "audit_log_archive",
        ["tenant_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "campaign_meta_connections",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("fb_user_id", sa.String(length=64), nullable=True),
        sa.Column("fb_user_name", sa.String(length=255), nullable=True),
        sa.Column("long_lived_user_token_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data_access_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=True),
        sa.Column("declined_scopes", sa.Text(), nullable=True),
        sa.Column("selected_business_id", sa.String(length=64), nullable=True),
        sa.Column("selected_business_name", sa.String(length=255), nullable=True),
        sa.Column("selected_page_id", sa.String(length=64), nullable=True),
        sa.Column("selected_page_name", sa.String(length=255), nullable=True),
        sa.Column("selected_page_access_token_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("selected_ig_user_id", sa.String(length=64), nullable=True),
        sa.Column("selected_ig_username", sa.String(length=255), nullable=True),
        sa.Column("selected_ad_account_id", sa.String(length=64), nullable=True),
        sa.Column("selected_ad_account_name", sa.String(length=255), nullable=True),
        sa.Column("ad_account_currency_code", sa.String(length=3), nullable=True),
        sa.Column("ad_account_status", sa.Integer(), nullable=True),
        sa.Column(
            "ad_account_payment_connected",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
        sa.Column("admin_connected", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "user_app_connected", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "connection_status", sa.String(length=30), server_default="authorizing", nullable=False
        ),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("oauth_state", sa.String(length=128), nullable=True),
        sa.Column("oauth_state_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "discovered",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "connection_status IN ('authorizing', 'pending_selection', 'connected', "
            "'token_expired', 'missing_scopes', 'account_disabled', 'no_payment_method', "
            "'declined', 'disconnected')",
            name=op.f("ck_campaign_meta_connections_connection_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_campaign_meta_connections_tenant_id_tenants"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_campaign_meta_connections_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_meta_connections")),
        sa.UniqueConstraint("oauth_state", name=op.f("uq_campaign_meta_connections_oauth_state")),
    )
    op.create_index(
        "ix_campaign_meta_connections_ad_account",
        "campaign_meta_connections",
        ["tenant_id", "selected_ad_account_id"],
        unique=False,
    )
    op.create_index(
        "ix_campaign_meta_connections_token_expiry",
        "campaign_meta_connections",
        ["tenant_id", "token_expires_at"],
        unique=False,
    )
    op.create_table(
        "meta_campaigns",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column("published_status", sa.String(length=20), nullable=True),
        sa.Column("initial_goal", sa.String(length=20), nullable=True),
        sa.Column("meta_connection_id", sa.Uuid(), nullable=True),
        sa.Column("last_metrics_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "initial_goal IN ('leads', 'website-visits', 'calls')",
            name=op.f("ck_meta_campaigns_initial_goal"),
        ),
        sa.CheckConstraint(
            "published_status IN ('publishing', 'active', 'paused', 'error', 'deleted')",
            name=op.f("ck_meta_campaigns_published_status"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'ready', 'published')", name=op.f("ck_meta_campaigns_status")
        ),
        sa.ForeignKeyConstraint(
            ["meta_connection_id"],
            ["campaign_meta_connections.id"],
            name=op.f("fk_meta_campaigns_meta_connection_id_campaign_meta_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_meta_campaigns_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_meta_campaigns_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meta_campaigns")),
    )
    op.create_index(
        "ix_meta_campaigns_published_status",
        "meta_campaigns",
        ["tenant_id", "published_status"],
        unique=False,
    )
    op.create_table(
        "campaign_states",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("goal_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("location_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("budget_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("ad_copy_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("ad_preview_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("meta_connect_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("publish_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["meta_campaigns.id"],
            name=op.f("fk_campaign_states_campaign_id_meta_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_campaign_states_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_states")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_campaign_states_campaign_id")),
    )
    op.create_index("ix_campaign_states_tenant_id", "campaign_states", ["tenant_id"], unique=False)
    op.create_table(
        "meta_ads",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column("meta_ad_id", sa.String(length=64), nullable=True),
        sa.Column("meta_creative_id", sa.String(length=64), nullable=True),
        sa.Column("meta_review_status", sa.String(length=30), nullable=True),
        sa.Column("review_feedback", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("issues_info", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("copy_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("creative_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("destination_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("destination_type", sa.String(length=20), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "destination_type IN ('website', 'form', 'call')",
            name=op.f("ck_meta_ads_destination_type"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["meta_campaigns.id"],
            name=op.f("fk_meta_ads_campaign_id_meta_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_meta_ads_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meta_ads")),
        sa.UniqueConstraint(
            "campaign_id", "position", name=op.f("uq_meta_ads_campaign_id_position")
        ),
    )
    op.create_index(
        "ix_meta_ads_campaign_status",
        "meta_ads",
        ["tenant_id", "campaign_id", "status"],
        unique=False,
    )
    op.create_index("ix_meta_ads_meta_ad_id", "meta_ads", ["tenant_id", "meta_ad_id"], unique=False)
    op.create_table(
        "meta_published_campaigns",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("meta_campaign_id", sa.String(length=64), nullable=True),
        sa.Column("meta_adset_id", sa.String(length=64), nullable=True),
        sa.Column(
            "meta_ad_ids",
            postgresql.ARRAY(sa.String(length=64)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "publish_status", sa.String(length=20), server_default="publishing", nullable=False
        ),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("generation", sa.Integer(), server_default="1", nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=True),
        sa.Column("review_workflow_id", sa.String(length=200), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "publish_status IN ('publishing', 'active', 'paused', 'error', 'deleted')",
            name=op.f("ck_meta_published_campaigns_publish_status"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["meta_campaigns.id"],
            name=op.f("fk_meta_published_campaigns_campaign_id_meta_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_meta_published_campaigns_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meta_published_campaigns")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_meta_published_campaigns_campaign_id")),
    )
    op.create_index(
        "ix_meta_published_campaigns_status",
        "meta_published_campaigns",
        ["tenant_id", "publish_status"],
        unique=False,
    )
    op.add_column("remote_objects", sa.Column("meta_campaign_id", sa.Uuid(), nullable=True))
    op.create_index(
        op.f("ix_remote_objects_meta_campaign_id"),
        "remote_objects",
        ["meta_campaign_id"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_remote_objects_meta_campaign_id_meta_campaigns"),
        "remote_objects",
        "meta_campaigns",
        ["meta_campaign_id"],
        ["id"],
    )
    for table in TABLES:
        enable_tenant_rls(table, typed=False)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    op.drop_constraint(
        op.f("fk_remote_objects_meta_campaign_id_meta_campaigns"),
        "remote_objects",
        type_="foreignkey",
    )
    op.drop_index(op.f("ix_remote_objects_meta_campaign_id"), table_name="remote_objects")
    op.drop_column("remote_objects", "meta_campaign_id")
    op.drop_index("ix_meta_published_campaigns_status", table_name="meta_published_campaigns")
    op.drop_table("meta_published_campaigns")
    op.drop_index("ix_meta_ads_meta_ad_id", table_name="meta_ads")
    op.drop_index("ix_meta_ads_campaign_status", table_name="meta_ads")
    op.drop_table("meta_ads")
    op.drop_index("ix_campaign_states_tenant_id", table_name="campaign_states")
    op.drop_table("campaign_states")
    op.drop_index("ix_meta_campaigns_published_status", table_name="meta_campaigns")
    op.drop_table("meta_campaigns")
    op.drop_index(
        "ix_campaign_meta_connections_token_expiry", table_name="campaign_meta_connections"
    )
    op.drop_index("ix_campaign_meta_connections_ad_account", table_name="campaign_meta_connections")
    op.drop_table("campaign_meta_connections")
    op.drop_index("ix_audit_log_archive_tenant_created", table_name="audit_log_archive")
    op.drop_table("audit_log_archive")
