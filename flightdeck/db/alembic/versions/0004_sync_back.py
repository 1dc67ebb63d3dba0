"""Scheduled sync-back (seed 002 §6): per-account cycle runs, conflicts, alerts — each
tenant-owned, under row-level security like every other tenant table.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from flightdeck.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("alerts", "sync_back_runs", "sync_conflicts")


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("entity_type", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.String(length=100), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_alerts_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_tenant_created", "alerts", ["tenant_id", "created_at"], unique=False)
    op.create_table(
        "sync_back_runs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("cycle_id", sa.String(length=200), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("ad_account_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="running", nullable=False),
        sa.Column("api_calls", sa.Integer(), server_default="0", nullable=False),
        sa.Column("entities_checked", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_changed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("conflicts_opened", sa.Integer(), server_default="0", nullable=False),
        sa.Column("deleted_on_platform", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "changes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
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
            "status IN ('running', 'completed', 'failed')", name=op.f("ck_sync_back_runs_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sync_back_runs_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_back_runs")),
    )
    op.create_index(
        "ix_sync_back_runs_tenant_created",
        "sync_back_runs",
        ["tenant_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("platform_id", sa.String(length=100), nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("resolution", sa.String(length=20), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
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
            "entity_type IN ('campaign', 'ad_group')", name=op.f("ck_sync_conflicts_entity_type")
        ),
        sa.CheckConstraint("platform IN ('reddit')", name=op.f("ck_sync_conflicts_platform")),
        sa.CheckConstraint(
            "resolution IN ('use_local', 'use_platform')", name=op.f("ck_sync_conflicts_resolution")
        ),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_sync_conflicts_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sync_conflicts_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
    )
    op.create_index(
        "ix_sync_conflicts_tenant_status", "sync_conflicts", ["tenant_id", "status"], unique=False
    )
    op.create_index(
        "uq_sync_conflicts_open_entity",
        "sync_conflicts",
        ["entity_type", "entity_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    for table in TABLES:
        enable_tenant_rls(table, typed=False)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    op.drop_index(
        "uq_sync_conflicts_open_entity",
        table_name="sync_conflicts",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index("ix_sync_conflicts_tenant_status", table_name="sync_conflicts")
    op.drop_table("sync_conflicts")
    op.drop_index("ix_sync_back_runs_tenant_created", table_name="sync_back_runs")
    op.drop_table("sync_back_runs")
    op.drop_index("ix_alerts_tenant_created", table_name="alerts")
    op.drop_table("alerts")
