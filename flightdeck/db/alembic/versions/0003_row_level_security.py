"""Row-level security: every tenant-owned table shows and accepts only the rows of the tenant
named by the transaction setting `flightdeck.tenant_id` (or all rows in the system scope `*`).

Creates the `flightdeck_app` role the application connects as (policies are FORCEd, so they
also bind the tables' owner; superusers bypass RLS, hence the role), grants it the data
privileges on every table, now and in later migrations, and puts one policy on each table that
has a `tenant_id` column (plus `tenants` itself, by `id`). Later migrations that add a
tenant-owned table call `enable_tenant_rls(table)`; tests/db/test_row_level_security.py fails
for any tenant-owned table without it.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from flightdeck.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "flightdeck_app"


def tenant_tables() -> list[str]:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_name = 'tenant_id' "
            "ORDER BY table_name"
        )
    )
    return [row[0] for row in rows]


def upgrade() -> None:
    # Roles are cluster-wide: create it once, whichever database migrates first.
    op.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') "
        f"THEN CREATE ROLE {ROLE} NOLOGIN; END IF; END $$"
    )
    # The login user must be able to switch to it (a no-op for superusers and the creator).
    op.execute(
        f"DO $$ BEGIN IF NOT pg_has_role(current_user, '{ROLE}', 'MEMBER') "
        f"THEN EXECUTE format('GRANT {ROLE} TO %I', current_user); END IF; END $$"
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {ROLE}"
    )
    for table in tenant_tables():
        enable_tenant_rls(table, typed=False)
    enable_tenant_rls("tenants", column="id", typed=False)


def downgrade() -> None:
    for table in [*tenant_tables(), "tenants"]:
        disable_tenant_rls(table)
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {ROLE}"
    )
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {ROLE}"
    )
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {ROLE}")
    # The role itself stays: it is cluster-wide and other databases may use it.
