"""Every tenant policy compares tenant ids as uuids (`rls.visible_typed`).

Migrations up to 0020 wrote the policy as `tenant_id::text = current_setting(...)`. That is
correct but opaque to the planner: it cannot use the column's statistics or indexes for the
tenant filter, guesses it at 0.5 % of the rows and picks nested loops on larger tables
(found on the metrics queries, fixed there in 0030). This migration rewrites the policy of every
table that still uses the text form; `enable_tenant_rls` now writes the typed form by default.

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from flightdeck.db.rls import POLICY, visible, visible_typed

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

# Tables whose policy this migration rewrites: every table with the tenant policy in its
# text form (0030's tables and metric partitions are typed already and stay as they are).
_TEXT_POLICIES = f"""
SELECT tablename FROM pg_policies
WHERE schemaname = current_schema() AND policyname = '{POLICY}' AND qual LIKE '%::text%'
ORDER BY tablename
"""


def _column(table: str) -> str:
    return "id" if table == "tenants" else "tenant_id"


def _replace(table: str, rule: str) -> None:
    op.execute(f'DROP POLICY {POLICY} ON "{table}"')
    op.execute(f'CREATE POLICY {POLICY} ON "{table}" USING {rule} WITH CHECK {rule}')


def upgrade() -> None:
    tables = [row[0] for row in op.get_bind().execute(sa.text(_TEXT_POLICIES))]
    for table in tables:
        _replace(table, visible_typed(_column(table)))


# Tables 0030 created typed; everything else with the policy goes back to the text form.
_TYPED_BEFORE = ("campaign_metrics", "platform_campaigns")


def downgrade() -> None:
    rows = op.get_bind().execute(
        sa.text(
            f"SELECT p.tablename FROM pg_policies p JOIN pg_class c ON c.relname = p.tablename "
            f"WHERE p.schemaname = current_schema() AND p.policyname = '{POLICY}' "
            f"AND NOT c.relispartition ORDER BY p.tablename"
        )
    )
    for (table,) in rows:
        if table not in _TYPED_BEFORE:
            _replace(table, visible(_column(table)))
