"""Indexes in the order the API's lists page by (keyset paging, `pagination.Keyset`).

Every list pages newest first by `(created_at, id)` within the tenant. These four tables had no
index in that order, so each page of a large tenant sorted all of its rows before the LIMIT:
the audit log above all, which grows by a row for every remote create. With
`(tenant_id, created_at, id)` a page is an index range scan that stops at the page's end.

Revision ID: 0051
Revises: 0050
"""

from __future__ import annotations

from alembic import op

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_audit_log_tenant_created": "audit_log",
    "ix_meta_campaigns_tenant_created": "meta_campaigns",
    "ix_platform_campaigns_tenant_created": "platform_campaigns",
    "ix_sync_conflicts_tenant_created": "sync_conflicts",
}


def upgrade() -> None:
    for name, table in INDEXES.items():
        op.create_index(name, table, ["tenant_id", "created_at", "id"], unique=False)


def downgrade() -> None:
    for name, table in INDEXES.items():
        op.drop_index(name, table_name=table)
