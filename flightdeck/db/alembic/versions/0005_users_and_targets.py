"""Users with roles behind API keys, the user on every audit entry, the publish targets
(Strategis organizations, Facebook ad accounts) each tenant registered, and one ledger row per
platform object across all tenants.

Existing keys are given to a new `admin` user of their tenant, so nothing stops working.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from flightdeck.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("viewer", "editor", "approver", "admin")
KINDS = ("strategis_organization", "facebook_ad_account")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(f"role IN {ROLES!r}", name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_users_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_users_tenant_id_name")),
    )
    op.create_table(
        "publish_targets",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(f"kind IN {KINDS!r}", name=op.f("ck_publish_targets_kind")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_publish_targets_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publish_targets")),
        sa.UniqueConstraint(
            "tenant_id", "kind", "value", name=op.f("uq_publish_targets_tenant_id_kind_value")
        ),
    )
    op.add_column("api_keys", sa.Column("user_id", sa.Uuid(), nullable=True))
    op.execute(
        "INSERT INTO users (tenant_id, name, role) "
        "SELECT DISTINCT tenant_id, 'admin', 'admin' FROM api_keys"
    )
    op.execute(
        "UPDATE api_keys SET user_id = u.id FROM users u "
        "WHERE u.tenant_id = api_keys.tenant_id AND u.name = 'admin'"
    )
    op.alter_column("api_keys", "user_id", nullable=False)
    op.create_foreign_key(
        op.f("fk_api_keys_user_id_users"), "api_keys", "users", ["user_id"], ["id"]
    )
    op.create_index(op.f("ix_api_keys_user_id"), "api_keys", ["user_id"], unique=False)
    op.add_column("audit_log", sa.Column("user_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_audit_log_user_id_users"), "audit_log", "users", ["user_id"], ["id"]
    )
    op.create_index(
        "uq_remote_objects_system_external_id",
        "remote_objects",
        ["system", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    for table in ("users", "publish_targets"):
        enable_tenant_rls(table, typed=False)


def downgrade() -> None:
    for table in ("users", "publish_targets"):
        disable_tenant_rls(table)
    op.drop_index("uq_remote_objects_system_external_id", table_name="remote_objects")
    op.drop_constraint(op.f("fk_audit_log_user_id_users"), "audit_log", type_="foreignkey")
    op.drop_column("audit_log", "user_id")
    op.drop_index(op.f("ix_api_keys_user_id"), table_name="api_keys")
    op.drop_constraint(op.f("fk_api_keys_user_id_users"), "api_keys", type_="foreignkey")
    op.drop_column("api_keys", "user_id")
    op.drop_table("publish_targets")
    op.drop_table("users")
