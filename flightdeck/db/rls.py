"""Row-level-security DDL shared by migrations: a tenant-owned table gets one policy that shows
and accepts only the rows of the tenant named by `flightdeck.tenant_id` (all rows in the system
scope `*`). Migration 0003 explains the scheme; every later migration that adds a tenant-owned
table calls `enable_tenant_rls` (tests/db/test_row_level_security.py checks them all)."""

from __future__ import annotations

from alembic import op

POLICY = "tenant_isolation"
SCOPE = "current_setting('flightdeck.tenant_id', true)"


def visible(column: str) -> str:
    return f"({SCOPE} = '*' OR {column}::text = {SCOPE})"


def enable_tenant_rls(table: str, column: str = "tenant_id") -> None:
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(
        f'CREATE POLICY {POLICY} ON "{table}" USING {visible(column)} WITH CHECK {visible(column)}'
    )


def disable_tenant_rls(table: str) -> None:
    op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
