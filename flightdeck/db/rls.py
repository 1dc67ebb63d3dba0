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


def visible_typed(column: str) -> str:
    """The same rule comparing uuids (the scope cast once, '' and '*' never cast): the planner
    then estimates `tenant_id = <scope>` from the column's statistics. Comparing
    `tenant_id::text` defeats them — every tenant filter is guessed at 0.5 % of the rows, which
    turned the 7-day metrics query into a nested loop (migration 0030, bench/metrics.py)."""
    scope = f"CAST(NULLIF(NULLIF({SCOPE}, '*'), '') AS uuid)"
    return f"({SCOPE} = '*' OR {column} = {scope})"


def enable_tenant_rls(table: str, column: str = "tenant_id", *, typed: bool = True) -> None:
    """`typed=False` only reproduces what migrations before 0031 wrote (keep them unchanged)."""
    rule = visible_typed(column) if typed else visible(column)
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(f'CREATE POLICY {POLICY} ON "{table}" USING {rule} WITH CHECK {rule}')


def disable_tenant_rls(table: str) -> None:
    op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
