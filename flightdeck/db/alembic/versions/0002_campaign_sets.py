"""Campaign sets (seed 002).

Ad accounts and OAuth states, campaign sets with their generated campaigns, ad groups,
generated ads and keywords, sync records, and the shared platform call log and circuit
breakers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Hand-checked against the models; `alembic check` (tests/db/test_migrations.py) proves no drift.
Enum values are frozen here on purpose, as in 0001.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLATFORMS = "('reddit')"
CAMPAIGN_SET_STATUSES = (
    "('draft', 'pending', 'syncing', 'active', 'paused', 'completed', 'archived', 'error')"
)
ENTITY_STATUSES = "('draft', 'pending', 'active', 'paused', 'completed', 'error')"
SYNC_STATUSES = "('pending', 'syncing', 'synced', 'failed', 'conflict')"
BUDGET_TYPES = "('daily', 'lifetime')"
BUDGET_COMPLETE = (
    "(budget_type IS NULL) = (budget_amount IS NULL) AND (budget_type IS NULL) = (currency IS NULL)"
)
AD_ACCOUNT_STATUSES = "('active', 'reauth_required', 'disconnected')"
ENTITY_TYPES = "('campaign', 'ad_group', 'ad')"
SYNC_RECORD_STATES = "('requested', 'created', 'synced', 'failed', 'deleted')"
CIRCUIT_STATES = "('closed', 'open', 'half_open')"
LIVE = sa.text("deleted_at IS NULL")

TABLES = (
    "circuit_breakers",
    "platform_calls",
    "sync_records",
    "keywords",
    "generated_ads",
    "ad_groups",
    "generated_campaigns",
    "campaign_sets",
    "oauth_states",
    "ad_accounts",
)


def _id() -> sa.Column[Any]:
    return sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False)


def _tenant_id() -> sa.Column[Any]:
    return sa.Column("tenant_id", sa.Uuid(), nullable=False)


def _timestamp(name: str) -> sa.Column[Any]:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _optional_time(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def _status(name: str, default: str) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length=20), server_default=default, nullable=False)


def _check(table: str, column: str, values: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IN {values}", name=op.f(f"ck_{table}_{column}"))


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants")
    )


def _parent_fk(table: str, column: str, parent: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{parent}.id"], name=op.f(f"fk_{table}_{column}_{parent}"), ondelete="CASCADE"
    )


def _jsonb() -> postgresql.JSONB:
    return postgresql.JSONB(astext_type=sa.Text())


def _budget_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("budget_type", sa.String(length=20), nullable=True),
        sa.Column("budget_amount", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
    ]


def _budget_checks(table: str) -> list[sa.CheckConstraint]:
    return [
        _check(table, "budget_type", BUDGET_TYPES),
        sa.CheckConstraint(BUDGET_COMPLETE, name=op.f(f"ck_{table}_budget")),
    ]


def _entity_columns(table: str) -> list[Any]:
    """Status, sync state and soft delete, shared by campaigns, ad groups and ads."""
    return [
        _status("status", "draft"),
        _status("sync_status", "pending"),
        sa.Column("sync_error", sa.Text(), nullable=True),
        _optional_time("last_synced_at"),
        _optional_time("deleted_at"),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _check(table, "status", ENTITY_STATUSES),
        _check(table, "sync_status", SYNC_STATUSES),
        _tenant_fk(table),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _live_unique(name: str, table: str, columns: list[Any]) -> None:
    """Unique among live (not soft-deleted) rows."""
    op.create_index(name, table, columns, unique=True, postgresql_where=LIVE)


def upgrade() -> None:
    _create_ad_accounts()
    _create_oauth_states()
    _create_campaign_sets()
    _create_generated_campaigns()
    _create_ad_groups()
    _create_generated_ads()
    _create_keywords()
    _create_sync_records()
    _create_platform_calls()
    _create_circuit_breakers()


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)


def _create_ad_accounts() -> None:
    op.create_table(
        "ad_accounts",
        _id(),
        _tenant_id(),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("platform_account_id", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        _status("status", "active"),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("access_token_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("refresh_token_encrypted", sa.LargeBinary(), nullable=True),
        _optional_time("token_expires_at"),
        sa.Column("scopes", sa.Text(), nullable=True),
        sa.Column("funding_instrument_id", sa.String(length=100), nullable=True),
        sa.Column("profile_id", sa.String(length=100), nullable=True),
        _optional_time("connected_at"),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _check("ad_accounts", "platform", PLATFORMS),
        _check("ad_accounts", "status", AD_ACCOUNT_STATUSES),
        _tenant_fk("ad_accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_accounts")),
        sa.UniqueConstraint(
            "tenant_id",
            "platform",
            "platform_account_id",
            name=op.f("uq_ad_accounts_tenant_id_platform_platform_account_id"),
        ),
    )


def _create_oauth_states() -> None:
    op.create_table(
        "oauth_states",
        _id(),
        _tenant_id(),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=128), nullable=False),
        sa.Column("code_verifier_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _optional_time("used_at"),
        _timestamp("created_at"),
        _check("oauth_states", "platform", PLATFORMS),
        _tenant_fk("oauth_states"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_states")),
        sa.UniqueConstraint("state", name=op.f("uq_oauth_states_state")),
    )
    op.create_index("ix_oauth_states_tenant_id", "oauth_states", ["tenant_id"])


def _create_campaign_sets() -> None:
    op.create_table(
        "campaign_sets",
        _id(),
        _tenant_id(),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("platform", sa.String(length=20), server_default="reddit", nullable=False),
        sa.Column("ad_account_id", sa.Uuid(), nullable=True),
        _status("status", "draft"),
        _status("sync_status", "pending"),
        _optional_time("last_synced_at"),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _check("campaign_sets", "platform", PLATFORMS),
        _check("campaign_sets", "status", CAMPAIGN_SET_STATUSES),
        _check("campaign_sets", "sync_status", SYNC_STATUSES),
        sa.ForeignKeyConstraint(
            ["ad_account_id"],
            ["ad_accounts.id"],
            name=op.f("fk_campaign_sets_ad_account_id_ad_accounts"),
        ),
        _tenant_fk("campaign_sets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_sets")),
    )
    op.create_index(op.f("ix_campaign_sets_ad_account_id"), "campaign_sets", ["ad_account_id"])
    op.create_index(
        "ix_campaign_sets_tenant_created", "campaign_sets", ["tenant_id", "created_at", "id"]
    )
    op.create_index("ix_campaign_sets_tenant_status", "campaign_sets", ["tenant_id", "status"])


def _create_generated_campaigns() -> None:
    table = "generated_campaigns"
    op.create_table(
        table,
        _id(),
        _tenant_id(),
        sa.Column("campaign_set_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("objective", sa.String(length=50), nullable=False),
        *_budget_columns(),
        sa.Column("budget_optimization", sa.Boolean(), server_default=sa.false(), nullable=False),
        _optional_time("start_time"),
        _optional_time("end_time"),
        sa.Column("platform_campaign_id", sa.String(length=100), nullable=True),
        *_entity_columns(table),
        *_budget_checks(table),
        _parent_fk(table, "campaign_set_id", "campaign_sets"),
    )
    _live_unique("uq_generated_campaigns_campaign_set_id_name", table, ["campaign_set_id", "name"])
    op.create_index(
        "ix_generated_campaigns_campaign_set_position", table, ["campaign_set_id", "position"]
    )
    op.create_index(
        "ix_generated_campaigns_tenant_platform_id", table, ["tenant_id", "platform_campaign_id"]
    )


def _create_ad_groups() -> None:
    table = "ad_groups"
    op.create_table(
        table,
        _id(),
        _tenant_id(),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("bid_strategy", sa.String(length=20), nullable=False),
        sa.Column("bid_amount", sa.Numeric(precision=20, scale=6), nullable=True),
        *_budget_columns(),
        sa.Column("targeting", _jsonb(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("optimization_goal", sa.String(length=64), nullable=True),
        _optional_time("start_time"),
        _optional_time("end_time"),
        sa.Column("platform_ad_group_id", sa.String(length=100), nullable=True),
        *_entity_columns(table),
        *_budget_checks(table),
        _parent_fk(table, "campaign_id", "generated_campaigns"),
    )
    _live_unique("uq_ad_groups_campaign_id_name", table, ["campaign_id", "name"])
    op.create_index("ix_ad_groups_campaign_position", table, ["campaign_id", "position"])
    op.create_index("ix_ad_groups_tenant_platform_id", table, ["tenant_id", "platform_ad_group_id"])


def _create_generated_ads() -> None:
    table = "generated_ads"
    op.create_table(
        table,
        _id(),
        _tenant_id(),
        sa.Column("ad_group_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("headline", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("display_url", sa.String(length=200), nullable=True),
        sa.Column("call_to_action", sa.String(length=32), nullable=False),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.Column("platform_ad_id", sa.String(length=100), nullable=True),
        sa.Column("platform_post_id", sa.String(length=100), nullable=True),
        *_entity_columns(table),
        _parent_fk(table, "ad_group_id", "ad_groups"),
    )
    _live_unique("uq_generated_ads_ad_group_id_name", table, ["ad_group_id", "name"])
    op.create_index("ix_generated_ads_ad_group_position", table, ["ad_group_id", "position"])
    op.create_index("ix_generated_ads_tenant_platform_id", table, ["tenant_id", "platform_ad_id"])


def _create_keywords() -> None:
    table = "keywords"
    op.create_table(
        table,
        _id(),
        _tenant_id(),
        sa.Column("ad_group_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.String(length=100), nullable=False),
        sa.Column("negative", sa.Boolean(), server_default=sa.false(), nullable=False),
        _status("status", "active"),
        sa.Column("platform_keyword_id", sa.String(length=100), nullable=True),
        _status("sync_status", "pending"),
        _optional_time("deleted_at"),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _check(table, "status", ENTITY_STATUSES),
        _check(table, "sync_status", SYNC_STATUSES),
        _parent_fk(table, "ad_group_id", "ad_groups"),
        _tenant_fk(table),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keywords")),
    )
    _live_unique(
        "uq_keywords_ad_group_id_text_negative",
        table,
        ["ad_group_id", sa.text("lower(text)"), "negative"],
    )
    op.create_index("ix_keywords_ad_group_id", table, ["ad_group_id"])
    op.create_index("ix_keywords_tenant_ad_group", table, ["tenant_id", "ad_group_id"])


def _create_sync_records() -> None:
    table = "sync_records"
    op.create_table(
        table,
        _id(),
        _tenant_id(),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("platform_id", sa.String(length=100), nullable=True),
        _status("state", "requested"),
        _status("sync_status", "pending"),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        _optional_time("last_synced_at"),
        _optional_time("requested_at"),
        sa.Column("error_log", _jsonb(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("synced_snapshot", _jsonb(), nullable=True),
        sa.Column("permanently_failed", sa.Boolean(), server_default=sa.false(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _check(table, "entity_type", ENTITY_TYPES),
        _check(table, "platform", PLATFORMS),
        _check(table, "state", SYNC_RECORD_STATES),
        _check(table, "sync_status", SYNC_STATUSES),
        _tenant_fk(table),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_records")),
        sa.UniqueConstraint(
            "entity_type",
            "entity_id",
            "platform",
            name=op.f("uq_sync_records_entity_type_entity_id_platform"),
        ),
    )
    op.create_index("ix_sync_records_tenant_sync_status", table, ["tenant_id", "sync_status"])


def _create_platform_calls() -> None:
    op.create_table(
        "platform_calls",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        _timestamp("at"),
        _tenant_fk("platform_calls"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_calls")),
    )
    op.create_index("ix_platform_calls_platform_at", "platform_calls", ["platform", "at"])


def _create_circuit_breakers() -> None:
    op.create_table(
        "circuit_breakers",
        sa.Column("platform", sa.String(length=20), nullable=False),
        _status("state", "closed"),
        _optional_time("opened_at"),
        sa.Column("failure_ratio", sa.Numeric(precision=5, scale=4), nullable=True),
        _timestamp("updated_at"),
        _check("circuit_breakers", "state", CIRCUIT_STATES),
        sa.PrimaryKeyConstraint("platform", name=op.f("pk_circuit_breakers")),
    )
