"""Set sync (issues 8, 9): a Reddit ad's post is ledgered like every other create (`sync_records`
entity type `post`, under the ad's id); the retry sweep selects failed campaigns through a
partial index of its own, however many failed ad-group and ad rows there are; each set sync is
a `set_sync_runs` row, and the campaigns it takes carry its id and their outcome (the workflow
pages them by id from here instead of carrying ids through history).

Revision ID: 0041
Revises: 0044 (re-chained after merging main)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from flightdeck.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "0041"
down_revision: str | None = "0045"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_sync_records_entity_type"
INDEX = "ix_sync_records_retryable_campaigns"
RETRYABLE = "entity_type = 'campaign' AND sync_status = 'failed' AND NOT permanently_failed"


def _time(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "set_sync_runs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_set_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("operation", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=30), server_default="running", nullable=False),
        *[
            sa.Column(name, sa.Integer(), server_default="0", nullable=False)
            for name in ("total", "synced", "failed", "held", "skipped")
        ],
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
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
            "status IN ('running', 'completed', 'completed_with_errors', 'failed')",
            name=op.f("ck_set_sync_runs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_set_id"],
            ["campaign_sets.id"],
            name=op.f("fk_set_sync_runs_campaign_set_id_campaign_sets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_set_sync_runs_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_set_sync_runs")),
    )
    op.create_index(
        "ix_set_sync_runs_tenant_set_started",
        "set_sync_runs",
        ["tenant_id", "campaign_set_id", "started_at"],
    )
    enable_tenant_rls("set_sync_runs")
    op.add_column("generated_campaigns", sa.Column("sync_run_id", sa.Uuid(), nullable=True))
    op.add_column(
        "generated_campaigns", sa.Column("sync_run_outcome", sa.String(length=20), nullable=True)
    )
    op.create_check_constraint(
        op.f("ck_generated_campaigns_sync_run_outcome"),
        "generated_campaigns",
        "sync_run_outcome IN ('synced', 'failed', 'held', 'skipped')",
    )
    op.create_index("ix_generated_campaigns_sync_run", "generated_campaigns", ["sync_run_id", "id"])
    op.drop_constraint(op.f(CONSTRAINT), "sync_records", type_="check")
    op.create_check_constraint(
        op.f(CONSTRAINT), "sync_records", "entity_type IN ('campaign', 'ad_group', 'ad', 'post')"
    )
    op.create_index(
        INDEX,
        "sync_records",
        ["platform", "updated_at", "id"],
        postgresql_where=sa.text(RETRYABLE),
    )


def downgrade() -> None:
    op.drop_index("ix_generated_campaigns_sync_run", table_name="generated_campaigns")
    op.drop_constraint(
        op.f("ck_generated_campaigns_sync_run_outcome"), "generated_campaigns", type_="check"
    )
    op.drop_column("generated_campaigns", "sync_run_outcome")
    op.drop_column("generated_campaigns", "sync_run_id")
    disable_tenant_rls("set_sync_runs")
    op.drop_index("ix_set_sync_runs_tenant_set_started", table_name="set_sync_runs")
    op.drop_table("set_sync_runs")
    op.drop_index(INDEX, table_name="sync_records")
    op.execute("DELETE FROM sync_records WHERE entity_type = 'post'")
    op.drop_constraint(op.f(CONSTRAINT), "sync_records", type_="check")
    op.create_check_constraint(
        op.f(CONSTRAINT), "sync_records", "entity_type IN ('campaign', 'ad_group', 'ad')"
    )
