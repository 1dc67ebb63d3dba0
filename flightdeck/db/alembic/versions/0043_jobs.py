"""`jobs`: every job id the API hands out, with its kind (issue 9 item 11), so
`GET /api/v1/jobs/{jobId}` resolves any of them by lookup, never by parsing the id.

Backfilled from the tables that already name a job's workflow: plans' requests, asset-import
runs, Meta publishes, sync-back and metrics cycles, and the sync (and pause/resume) job of every
campaign set that was ever synced.

Revision ID: 0043
Revises: 0031 (the lead re-chains on merge)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from flightdeck.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = (
    """SELECT workflow_id, tenant_id, 'plan_publish', campaign_plan_id::text, created_at
       FROM campaign_requests""",
    """SELECT workflow_id, tenant_id, 'asset_import', id::text, created_at
       FROM asset_import_runs""",
    """SELECT workflow_id, tenant_id, 'meta_publish', campaign_id::text, created_at
       FROM meta_published_campaigns WHERE workflow_id IS NOT NULL""",
    """SELECT DISTINCT ON (cycle_id) cycle_id, tenant_id, 'sync_back', NULL, created_at
       FROM sync_back_runs ORDER BY cycle_id, created_at""",
    """SELECT DISTINCT ON (cycle_id) cycle_id, tenant_id, 'metrics_sync', NULL, created_at
       FROM metrics_sync_runs ORDER BY cycle_id, created_at""",
    """SELECT 'sync-set-' || id::text, tenant_id, 'set_sync', id::text, updated_at
       FROM campaign_sets WHERE last_synced_at IS NOT NULL OR sync_status <> 'pending'""",
    """SELECT 'status-set-' || id::text, tenant_id, 'set_status', id::text, updated_at
       FROM campaign_sets WHERE last_synced_at IS NOT NULL""",
)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(400), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=True),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_jobs_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_tenant_created", "jobs", ["tenant_id", "created_at"])
    enable_tenant_rls("jobs")
    # Row-level security applies to the table's owner too (FORCE): backfill in the system scope.
    op.execute("SELECT set_config('flightdeck.tenant_id', '*', true)")
    for select in BACKFILL:
        op.execute(
            f"INSERT INTO jobs (id, tenant_id, kind, subject_id, requested_at) {select} "
            "ON CONFLICT (id) DO NOTHING"
        )


def downgrade() -> None:
    disable_tenant_rls("jobs")
    op.drop_index("ix_jobs_tenant_created", table_name="jobs")
    op.drop_table("jobs")
