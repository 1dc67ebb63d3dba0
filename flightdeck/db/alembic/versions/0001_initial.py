"""Initial schema.

Tenants, API keys, campaign plans and requests, the remote-object ledger, campaign errors,
Strategis templates, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Hand-checked against the models; `alembic check` (tests/db/test_migrations.py) proves no drift.
Constants (status values) are frozen here on purpose: a migration must not change meaning when
the application code does.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLAN_STATUSES = "('draft', 'pending', 'creating', 'active', 'paused', 'failed', 'cancelled')"
LEDGER_STATES = "('requested', 'created', 'failed', 'paused', 'deleted')"


def _id() -> sa.Column[Any]:
    return sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False)


def _tenant_id() -> sa.Column[Any]:
    return sa.Column("tenant_id", sa.Uuid(), nullable=False)


def _timestamp(name: str) -> sa.Column[Any]:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants")
    )


def _plan_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["campaign_plan_id"],
        ["campaign_plans.id"],
        name=op.f(f"fk_{table}_campaign_plan_id_campaign_plans"),
    )


def _jsonb() -> postgresql.JSONB:
    return postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    _create_tenants()
    _create_api_keys()
    _create_audit_log()
    _create_campaign_plans()
    _create_strategis_templates()
    _create_campaign_errors()
    _create_campaign_requests()
    _create_remote_objects()


def downgrade() -> None:
    for table in (
        "remote_objects",
        "campaign_requests",
        "campaign_errors",
        "strategis_templates",
        "campaign_plans",
        "audit_log",
        "api_keys",
        "tenants",
    ):
        op.drop_table(table)


def _create_tenants() -> None:
    op.create_table(
        "tenants",
        _id(),
        sa.Column("name", sa.String(length=255), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("name", name=op.f("uq_tenants_name")),
    )


def _create_api_keys() -> None:
    op.create_table(
        "api_keys",
        _id(),
        _tenant_id(),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        _timestamp("created_at"),
        _tenant_fk("api_keys"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])


def _create_audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=100), nullable=False),
        sa.Column("entity_id", sa.String(length=400), nullable=False),
        sa.Column("details", _jsonb(), nullable=True),
        _timestamp("created_at"),
        _tenant_fk("audit_log"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        "ix_audit_log_tenant_entity_created",
        "audit_log",
        ["tenant_id", "entity_type", "created_at"],
    )


def _create_campaign_plans() -> None:
    op.create_table(
        "campaign_plans",
        _id(),
        _tenant_id(),
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("brand", sa.String(length=255), nullable=False),
        sa.Column("objective", sa.String(length=100), nullable=False),
        sa.Column("hook_set_id", sa.String(length=255), nullable=False),
        sa.Column("market", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("ad_account_id", sa.String(length=255), nullable=False),
        sa.Column("organization", sa.String(length=255), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("destination", sa.String(length=50), nullable=False),
        sa.Column("strategis_template_id", sa.String(length=255), nullable=True),
        sa.Column("campaign_name", sa.Text(), nullable=False),
        sa.Column("ad_set_names", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("ad_names", _jsonb(), nullable=False),
        sa.Column("plan", _jsonb(), nullable=False),
        sa.Column("status", sa.String(length=50), server_default="pending", nullable=False),
        sa.Column("workflow_id", sa.String(length=400), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint(f"status IN {PLAN_STATUSES}", name=op.f("ck_campaign_plans_status")),
        _tenant_fk("campaign_plans"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_plans")),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_campaign_plans_tenant_id_request_id")
        ),
    )
    op.create_index(
        "ix_campaign_plans_tenant_created", "campaign_plans", ["tenant_id", "created_at", "id"]
    )
    op.create_index(
        "ix_campaign_plans_tenant_hook_set", "campaign_plans", ["tenant_id", "hook_set_id"]
    )
    op.create_index("ix_campaign_plans_tenant_status", "campaign_plans", ["tenant_id", "status"])


def _create_strategis_templates() -> None:
    op.create_table(
        "strategis_templates",
        _id(),
        _tenant_id(),
        sa.Column("organization", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("strategis_template_id", sa.String(length=255), nullable=False),
        _timestamp("created_at"),
        _tenant_fk("strategis_templates"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategis_templates")),
        sa.UniqueConstraint(
            "tenant_id",
            "organization",
            "key",
            name=op.f("uq_strategis_templates_tenant_id_organization_key"),
        ),
    )


def _create_campaign_errors() -> None:
    op.create_table(
        "campaign_errors",
        _id(),
        _tenant_id(),
        sa.Column("campaign_plan_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=False),
        sa.Column("error_type", sa.String(length=100), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.Column("error_details", _jsonb(), nullable=True),
        _timestamp("created_at"),
        _plan_fk("campaign_errors"),
        _tenant_fk("campaign_errors"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_errors")),
    )
    op.create_index(
        op.f("ix_campaign_errors_campaign_plan_id"), "campaign_errors", ["campaign_plan_id"]
    )
    op.create_index("ix_campaign_errors_tenant_id", "campaign_errors", ["tenant_id"])


def _create_campaign_requests() -> None:
    op.create_table(
        "campaign_requests",
        _id(),
        _tenant_id(),
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("campaign_plan_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=50), server_default="pending", nullable=False),
        sa.Column("step", sa.String(length=100), nullable=True),
        sa.Column("progress_done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("progress_total", sa.Integer(), server_default="0", nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint(f"status IN {PLAN_STATUSES}", name=op.f("ck_campaign_requests_status")),
        _plan_fk("campaign_requests"),
        _tenant_fk("campaign_requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_requests")),
        sa.UniqueConstraint("campaign_plan_id", name=op.f("uq_campaign_requests_campaign_plan_id")),
        sa.UniqueConstraint(
            "tenant_id", "request_id", name=op.f("uq_campaign_requests_tenant_id_request_id")
        ),
        sa.UniqueConstraint("workflow_id", name=op.f("uq_campaign_requests_workflow_id")),
    )


def _create_remote_objects() -> None:
    op.create_table(
        "remote_objects",
        _id(),
        _tenant_id(),
        sa.Column("campaign_plan_id", sa.Uuid(), nullable=True),
        sa.Column("system", sa.String(length=50), nullable=False),
        sa.Column("object_type", sa.String(length=50), nullable=False),
        sa.Column("local_key", sa.String(length=255), nullable=False),
        sa.Column("client_request_key", sa.String(length=400), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=20), server_default="requested", nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("parent_external_id", sa.String(length=255), nullable=True),
        sa.Column("ad_set_index", sa.Integer(), nullable=True),
        sa.Column("ad_index", sa.Integer(), nullable=True),
        sa.Column("attributes", _jsonb(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint(f"state IN {LEDGER_STATES}", name=op.f("ck_remote_objects_state")),
        _plan_fk("remote_objects"),
        _tenant_fk("remote_objects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_objects")),
        sa.UniqueConstraint(
            "tenant_id",
            "system",
            "client_request_key",
            name=op.f("uq_remote_objects_tenant_id_system_client_request_key"),
        ),
    )
    op.create_index(
        op.f("ix_remote_objects_campaign_plan_id"), "remote_objects", ["campaign_plan_id"]
    )
    op.create_index(
        "ix_remote_objects_external",
        "remote_objects",
        ["tenant_id", "system", "object_type", "external_id"],
    )
