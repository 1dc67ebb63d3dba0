"""Set sync (issue 8): a Reddit ad's post is ledgered like every other create (`sync_records`
entity type `post`, under the ad's id), and the retry sweep selects failed campaigns through a
partial index of its own, however many failed ad-group and ad rows there are.

Revision ID: 0041
Revises: 0030 (the integrator re-chains on merge, after 0031)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0041"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_sync_records_entity_type"
INDEX = "ix_sync_records_retryable_campaigns"
RETRYABLE = "entity_type = 'campaign' AND sync_status = 'failed' AND NOT permanently_failed"


def upgrade() -> None:
    op.drop_constraint(op.f(CONSTRAINT), "sync_records", type_="check")
    op.create_check_constraint(
        op.f(CONSTRAINT), "sync_records", "entity_type IN ('campaign', 'ad_group', 'ad', 'post')"
    )
    op.create_index(
        INDEX,
        "sync_records",
        ["platform", "updated_at", "id"],
        postgresql_where=sa.text(RETRYABLE),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="sync_records")
    op.execute("DELETE FROM sync_records WHERE entity_type = 'post'")
    op.drop_constraint(op.f(CONSTRAINT), "sync_records", type_="check")
    op.create_check_constraint(
        op.f(CONSTRAINT), "sync_records", "entity_type IN ('campaign', 'ad_group', 'ad')"
    )
