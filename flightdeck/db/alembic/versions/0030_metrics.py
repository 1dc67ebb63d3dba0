"""Seed 004, metrics and actions: the platform-campaign registry, the monthly-partitioned
`campaign_metrics`, metrics sync runs, recommendations, budget allocations, the AI actions log,
per-tenant performance settings, and one `alerts` table for every kind of alert (the sync-back
alerts gain the seed's columns: `kind` becomes `alert_type`, plus severity, campaign, metric,
threshold, acknowledgement and resolution).

`campaign_metrics` is range-partitioned by month on `time` (native partitioning). Partitions
are created ahead by the metrics schedule — and for whatever months an ingest touches — through
`flightdeck_ensure_metric_partitions(first, last)`: creating a partition needs the parent's
owner, so the function is SECURITY DEFINER (owned by whoever migrates) and the only thing the
application role may call to change the schema. Each partition gets the tenant policy too:
Postgres applies the parent's policies to queries through the parent only, so a partition read
directly would otherwise show every tenant's rows.

`campaign_metrics` (and its partitions) and `platform_campaigns`, the tables the metrics queries
join, compare tenant ids as uuids in their policy (`rls.visible_typed`): with the `::text`
comparison the planner guessed every tenant filter at 0.5 % of the rows and chose nested loops
(bench/metrics.py measures both).

When the TimescaleDB extension is installed, `campaign_metrics` becomes a hypertable (monthly
chunks) instead and the function does nothing. That branch is UNTESTED: the extension is not
available where this was written.

Revision ID: 0030
Revises: 0020 (the lead re-chains on merge)
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from flightdeck.db.rls import disable_tenant_rls, enable_tenant_rls, visible_typed

revision: str = "0030"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "flightdeck_app"
NOW = sa.text("now()")
TABLES = (
    "platform_campaigns",
    "metrics_sync_runs",
    "performance_settings",
    "budget_allocations",
    "ai_recommendations",
    "ai_actions_log",
    "campaign_metrics",
)
TYPED_POLICY = ("campaign_metrics", "platform_campaigns")
ENSURE_PARTITIONS = f"""
CREATE OR REPLACE FUNCTION flightdeck_ensure_metric_partitions(first_day date, last_day date)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    month date := date_trunc('month', first_day)::date;
    created integer := 0;
    part text;
    policy text := $p${visible_typed("tenant_id")}$p$;
BEGIN
    IF first_day IS NULL OR last_day IS NULL OR last_day < first_day THEN
        RETURN 0;
    END IF;
    IF last_day - first_day > 3700 THEN
        RAISE EXCEPTION 'metric partitions: % to % spans more than ten years', first_day, last_day;
    END IF;
    -- A hypertable (TimescaleDB) makes its own chunks.
    IF (SELECT relkind FROM pg_class WHERE oid = 'campaign_metrics'::regclass) <> 'p' THEN
        RETURN 0;
    END IF;
    -- Two cycles creating the same month at once must not collide in the catalog.
    PERFORM pg_advisory_xact_lock(hashtext('flightdeck_ensure_metric_partitions'));
    WHILE month <= last_day LOOP
        part := 'campaign_metrics_p' || to_char(month, 'YYYYMM');
        IF to_regclass(part) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF campaign_metrics FOR VALUES FROM (%L) TO (%L)',
                part, month || ' 00:00:00+00', (month + interval '1 month')::date || ' 00:00:00+00'
            );
            EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', part);
            EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', part);
            EXECUTE format(
                'CREATE POLICY tenant_isolation ON %I USING %s WITH CHECK %s', part, policy, policy
            );
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO {ROLE}', part);
            created := created + 1;
        END IF;
        month := (month + interval '1 month')::date;
    END LOOP;
    RETURN created;
END
$fn$
"""


def timescale_installed() -> bool:
    found = op.get_bind().execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
    )
    return found.first() is not None


def upgrade() -> None:
    create_registry()
    create_metrics()
    create_runs_and_settings()
    create_recommendations_and_actions()
    reconcile_alerts()
    for table in TABLES:
        # The tables the metrics queries join compare tenant ids as uuids in their policy, so
        # the planner estimates tenant filters from statistics (see db/rls.visible_typed).
        enable_tenant_rls(table, typed=table in TYPED_POLICY)


def create_registry() -> None:
    op.create_table(
        "platform_campaigns",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(length=50), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=True),
        sa.Column("platform_campaign_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=50), server_default="unknown", nullable=False),
        sa.Column("platform_status", sa.String(length=50), nullable=True),
        sa.Column("objective", sa.String(length=100), nullable=True),
        sa.Column("budget_amount", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("budget_type", sa.String(length=50), nullable=True),
        sa.Column("budget_owner", sa.String(length=20), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("origin", sa.String(length=20), server_default="discovered", nullable=False),
        sa.Column("campaign_plan_id", sa.Uuid(), nullable=True),
        sa.Column("meta_campaign_id", sa.Uuid(), nullable=True),
        sa.Column("generated_campaign_id", sa.Uuid(), nullable=True),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_metrics_at", sa.DateTime(timezone=True), nullable=True),
        *timestamps(),
        sa.CheckConstraint(
            "budget_owner IN ('campaign', 'ad_set')",
            name=op.f("ck_platform_campaigns_budget_owner"),
        ),
        sa.CheckConstraint(
            "budget_type IN ('daily', 'lifetime')", name=op.f("ck_platform_campaigns_budget_type")
        ),
        sa.CheckConstraint(
            "origin IN ('discovered', 'relay', 'meta', 'campaign_set')",
            name=op.f("ck_platform_campaigns_origin"),
        ),
        sa.CheckConstraint(
            "platform IN ('meta', 'reddit', 'google')", name=op.f("ck_platform_campaigns_platform")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'archived', 'deleted', 'unknown')",
            name=op.f("ck_platform_campaigns_status"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_plan_id"],
            ["campaign_plans.id"],
            name=op.f("fk_platform_campaigns_campaign_plan_id_campaign_plans"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["generated_campaign_id"],
            ["generated_campaigns.id"],
            name=op.f("fk_platform_campaigns_generated_campaign_id_generated_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meta_campaign_id"],
            ["meta_campaigns.id"],
            name=op.f("fk_platform_campaigns_meta_campaign_id_meta_campaigns"),
            ondelete="SET NULL",
        ),
        tenant_fk("platform_campaigns"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_campaigns")),
        sa.UniqueConstraint(
            "tenant_id",
            "platform",
            "platform_campaign_id",
            name=op.f("uq_platform_campaigns_tenant_id_platform_platform_campaign_id"),
        ),
    )
    op.create_index(
        "ix_platform_campaigns_tenant_account",
        "platform_campaigns",
        ["tenant_id", "platform", "account_id"],
        unique=False,
    )
    op.create_index(
        "ix_platform_campaigns_tenant_status",
        "platform_campaigns",
        ["tenant_id", "status"],
        unique=False,
    )


def create_metrics() -> None:
    hypertable = timescale_installed()
    partitioning: dict[str, Any] = {} if hypertable else {"postgresql_partition_by": "RANGE (time)"}
    op.create_table(
        "campaign_metrics",
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("impressions", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("clicks", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("spend", sa.Numeric(precision=20, scale=6), server_default="0", nullable=False),
        sa.Column("conversions", sa.Integer(), server_default="0", nullable=False),
        sa.Column("revenue", sa.Numeric(precision=20, scale=6), server_default="0", nullable=False),
        sa.Column("cpc", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("cpm", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("ctr", sa.Numeric(precision=12, scale=8), nullable=True),
        sa.Column("roas", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("roi", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["platform_campaigns.id"],
            name=op.f("fk_campaign_metrics_campaign_id_platform_campaigns"),
            ondelete="CASCADE",
        ),
        tenant_fk("campaign_metrics"),
        sa.PrimaryKeyConstraint("campaign_id", "time", name=op.f("pk_campaign_metrics")),
        **partitioning,
    )
    op.create_index(
        "ix_campaign_metrics_tenant_time",
        "campaign_metrics",
        ["tenant_id", "time"],
        unique=False,
        postgresql_include=["campaign_id", "spend", "revenue", "conversions"],
    )
    if hypertable:  # UNTESTED: see the module docstring
        op.execute(
            "SELECT create_hypertable('campaign_metrics', 'time', "
            "chunk_time_interval => INTERVAL '1 month')"
        )
    op.execute(ENSURE_PARTITIONS)
    op.execute("REVOKE ALL ON FUNCTION flightdeck_ensure_metric_partitions(date, date) FROM PUBLIC")
    op.execute(
        f"GRANT EXECUTE ON FUNCTION flightdeck_ensure_metric_partitions(date, date) TO {ROLE}"
    )


def create_runs_and_settings() -> None:
    op.create_table(
        "metrics_sync_runs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("cycle_id", sa.String(length=200), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("platform", sa.String(length=50), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="running", nullable=False),
        sa.Column("window_start", sa.Date(), nullable=True),
        sa.Column("window_end", sa.Date(), nullable=True),
        *counters(
            "report_calls",
            "report_jobs",
            "campaigns_discovered",
            "campaigns_new",
            "rows_fetched",
            "rows_upserted",
        ),
        sa.Column("throttle_wait_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        *timestamps(),
        sa.CheckConstraint(
            "platform IN ('meta', 'reddit', 'google')", name=op.f("ck_metrics_sync_runs_platform")
        ),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'failed')", name=op.f("ck_metrics_sync_runs_status")
        ),
        tenant_fk("metrics_sync_runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics_sync_runs")),
        sa.UniqueConstraint(
            "cycle_id",
            "platform",
            "connection_id",
            name=op.f("uq_metrics_sync_runs_cycle_id_platform_connection_id"),
        ),
    )
    op.create_index(
        "ix_metrics_sync_runs_tenant_created",
        "metrics_sync_runs",
        ["tenant_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "performance_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column(
            "settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("webhook_secret_encrypted", sa.LargeBinary(), nullable=True),
        *timestamps(),
        tenant_fk("performance_settings"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_performance_settings")),
    )


def create_recommendations_and_actions() -> None:
    op.create_table(
        "budget_allocations",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("total_budget", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("allocations", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("ai_suggested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        tenant_fk("budget_allocations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_allocations")),
    )
    op.create_index(
        "ix_budget_allocations_tenant_period",
        "budget_allocations",
        ["tenant_id", "period_start"],
        unique=False,
    )
    op.create_table(
        "ai_recommendations",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=True),
        sa.Column("recommendation_type", sa.String(length=100), nullable=False),
        sa.Column("recommendation_text", sa.Text(), nullable=False),
        sa.Column("confidence_score", sa.Numeric(precision=3, scale=2), nullable=False),
        sa.Column("status", sa.String(length=50), server_default="pending", nullable=False),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("action_type", sa.String(length=50), nullable=False),
        sa.Column("change_key", sa.String(length=200), nullable=False),
        sa.Column("proposed_change", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=True),
        sa.Column("allocation_id", sa.Uuid(), nullable=True),
        sa.Column("action_id", sa.Uuid(), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        *timestamps(),
        sa.CheckConstraint(
            "action_type IN ('PAUSE', 'BUDGET_CHANGE', 'REALLOCATE')",
            name=op.f("ck_ai_recommendations_action_type"),
        ),
        sa.CheckConstraint(
            "recommendation_type IN ('PAUSE_CAMPAIGN', 'INCREASE_BUDGET', 'DECREASE_BUDGET', "
            "'REALLOCATE_BUDGET')",
            name=op.f("ck_ai_recommendations_recommendation_type"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'rejected', 'executed', 'superseded', 'failed')",
            name=op.f("ck_ai_recommendations_status"),
        ),
        sa.ForeignKeyConstraint(
            ["allocation_id"],
            ["budget_allocations.id"],
            name=op.f("fk_ai_recommendations_allocation_id_budget_allocations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["platform_campaigns.id"],
            name=op.f("fk_ai_recommendations_campaign_id_platform_campaigns"),
            ondelete="CASCADE",
        ),
        tenant_fk("ai_recommendations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_recommendations")),
    )
    op.create_index(
        "ix_ai_recommendations_campaign", "ai_recommendations", ["campaign_id"], unique=False
    )
    op.create_index(
        "ix_ai_recommendations_status", "ai_recommendations", ["tenant_id", "status"], unique=False
    )
    op.create_index(
        "uq_ai_recommendations_pending_change",
        "ai_recommendations",
        ["tenant_id", "change_key"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "ai_actions_log",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("action_type", sa.String(length=100), nullable=False),
        sa.Column("platform", sa.String(length=50), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=True),
        sa.Column("previous_state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("new_state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Numeric(precision=3, scale=2), nullable=True),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("executed_by", sa.String(length=100), nullable=True),
        sa.Column("approval_required", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("approved_by", sa.String(length=255), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "status", sa.String(length=30), server_default="pending_approval", nullable=False
        ),
        sa.Column("proposed_by", sa.String(length=255), nullable=False),
        sa.Column("recommendation_id", sa.Uuid(), nullable=True),
        sa.Column("reverts_action_id", sa.Uuid(), nullable=True),
        sa.Column("autonomous", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        *timestamps(),
        sa.CheckConstraint(
            "action_type IN ('PAUSE', 'BUDGET_CHANGE', 'REALLOCATE')",
            name=op.f("ck_ai_actions_log_action_type"),
        ),
        sa.CheckConstraint(
            "status IN ('pending_approval', 'approved', 'executed', 'rejected', 'expired', "
            "'stale', 'failed')",
            name=op.f("ck_ai_actions_log_status"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["platform_campaigns.id"],
            name=op.f("fk_ai_actions_log_campaign_id_platform_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["ai_recommendations.id"],
            name=op.f("fk_ai_actions_log_recommendation_id_ai_recommendations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reverts_action_id"],
            ["ai_actions_log.id"],
            name=op.f("fk_ai_actions_log_reverts_action_id_ai_actions_log"),
            ondelete="SET NULL",
        ),
        tenant_fk("ai_actions_log"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_actions_log")),
    )
    op.create_index(
        "ix_ai_actions_log_executed_at",
        "ai_actions_log",
        ["tenant_id", "executed_at"],
        unique=False,
    )
    op.create_index("ix_ai_actions_log_platform", "ai_actions_log", ["platform"], unique=False)
    op.create_index(
        "ix_ai_actions_log_status", "ai_actions_log", ["tenant_id", "status"], unique=False
    )


def reconcile_alerts() -> None:
    """The sync-back's `alerts` become seed 004's: one table, one lifecycle for every alert."""
    op.alter_column(
        "alerts",
        "kind",
        new_column_name="alert_type",
        type_=sa.String(length=100),
        existing_type=sa.String(length=50),
        existing_nullable=False,
    )
    op.add_column(
        "alerts",
        sa.Column("severity", sa.String(length=20), server_default="MEDIUM", nullable=False),
    )
    op.add_column("alerts", sa.Column("campaign_id", sa.Uuid(), nullable=True))
    op.add_column("alerts", sa.Column("platform", sa.String(length=50), nullable=True))
    op.add_column("alerts", sa.Column("metric_name", sa.String(length=100), nullable=True))
    op.add_column(
        "alerts", sa.Column("metric_value", sa.Numeric(precision=20, scale=6), nullable=True)
    )
    op.add_column(
        "alerts", sa.Column("threshold_value", sa.Numeric(precision=20, scale=6), nullable=True)
    )
    op.add_column(
        "alerts", sa.Column("fire_count", sa.Integer(), server_default="1", nullable=False)
    )
    op.add_column("alerts", sa.Column("last_fired_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("alerts", sa.Column("acknowledged_by", sa.String(length=255), nullable=True))
    op.add_column("alerts", sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("alerts", sa.Column("resolved_by", sa.String(length=255), nullable=True))
    op.add_column("alerts", sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("alerts", sa.Column("notification_error", sa.Text(), nullable=True))
    op.add_column(
        "alerts",
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
    )
    # What the operational alerts were worth: a failed compensation or a rejected ad may leave
    # money at stake; a waiting conflict or a slow review less so.
    op.execute(
        "UPDATE alerts SET last_fired_at = created_at, updated_at = created_at, "
        "severity = CASE WHEN alert_type IN ('compensation_failed', 'meta_ad_rejected') "
        "THEN 'HIGH' ELSE 'MEDIUM' END"
    )
    op.create_check_constraint(
        op.f("ck_alerts_severity"), "alerts", "severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')"
    )
    op.create_foreign_key(
        op.f("fk_alerts_campaign_id_platform_campaigns"),
        "alerts",
        "platform_campaigns",
        ["campaign_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(
        "ix_alerts_unresolved",
        "alerts",
        ["tenant_id", "resolved_at"],
        unique=False,
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_index(
        "uq_alerts_open_campaign_type",
        "alerts",
        ["tenant_id", "campaign_id", "alert_type"],
        unique=True,
        postgresql_where=sa.text("resolved_at IS NULL AND campaign_id IS NOT NULL"),
    )


def timestamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
    ]


def counters(*names: str) -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in names]


def tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants")
    )


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    op.drop_index("uq_alerts_open_campaign_type", table_name="alerts")
    op.drop_index("ix_alerts_unresolved", table_name="alerts")
    op.drop_constraint(
        op.f("fk_alerts_campaign_id_platform_campaigns"), "alerts", type_="foreignkey"
    )
    op.drop_constraint(op.f("ck_alerts_severity"), "alerts", type_="check")
    for column in (
        "updated_at",
        "notification_error",
        "notified_at",
        "resolved_by",
        "resolved_at",
        "acknowledged_by",
        "last_fired_at",
        "fire_count",
        "threshold_value",
        "metric_value",
        "metric_name",
        "platform",
        "campaign_id",
        "severity",
    ):
        op.drop_column("alerts", column)
    op.alter_column(
        "alerts",
        "alert_type",
        new_column_name="kind",
        type_=sa.String(length=50),
        existing_type=sa.String(length=100),
        existing_nullable=False,
    )
    op.drop_table("ai_actions_log")
    op.drop_table("ai_recommendations")
    op.drop_table("budget_allocations")
    op.drop_table("performance_settings")
    op.drop_table("metrics_sync_runs")
    op.execute("DROP FUNCTION IF EXISTS flightdeck_ensure_metric_partitions(date, date)")
    op.drop_table("campaign_metrics")  # and its partitions
    op.drop_table("platform_campaigns")
