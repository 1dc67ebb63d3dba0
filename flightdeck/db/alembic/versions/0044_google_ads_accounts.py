"""Google Ads accounts (issue 14): `ad_accounts` and `oauth_states` accept platform `google`,
and an ad account remembers the manager it is reached through (`login_customer_id`, the
`login-customer-id` header Google requires when acting through a manager account).

Revision ID: 0044
Revises: 0031
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None

WITH_GOOGLE = "platform IN ('reddit', 'google')"
REDDIT_ONLY = "platform IN ('reddit')"


def _platform_check(table: str, rule: str) -> None:
    op.drop_constraint(op.f(f"ck_{table}_platform"), table, type_="check")
    op.create_check_constraint(op.f(f"ck_{table}_platform"), table, rule)


def upgrade() -> None:
    op.add_column(
        "ad_accounts", sa.Column("login_customer_id", sa.String(length=20), nullable=True)
    )
    for table in ("ad_accounts", "oauth_states"):
        _platform_check(table, WITH_GOOGLE)


def downgrade() -> None:
    op.execute("DELETE FROM oauth_states WHERE platform = 'google'")
    op.execute("DELETE FROM ad_accounts WHERE platform = 'google'")
    for table in ("ad_accounts", "oauth_states"):
        _platform_check(table, REDDIT_ONLY)
    op.drop_column("ad_accounts", "login_customer_id")
