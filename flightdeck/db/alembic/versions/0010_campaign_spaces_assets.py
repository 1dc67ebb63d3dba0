"""Campaign spaces and the asset library (seed 003).

The seed's three Postgres enum types (`adplatform`, `campaignassettype`,
`campaignimportsource`), frozen here; `campaign_spaces` with a ranked full-text vector
(name A, description B) and GIN indexes on it and on `tags`; content-addressed `asset_blobs`
(one per tenant and SHA-256); `campaign_assets` with their own full-text vector and tag index,
and a unique (space, type, external id) so imports never add the same platform object twice;
`asset_reuses` (who used which asset where and when); `asset_import_runs` and
`asset_import_items` (import jobs and what each found). Every table is tenant-owned, under
row-level security.

Under row-level security Postgres uses an index for a query's own condition only if its
operator is LEAKPROOF (the policy runs first, as a security barrier), and neither `@@`
(`ts_match_vq`) nor `@>` on arrays (`arraycontains`) is marked so: every search and tag filter
would read the tenant's whole table. Both only compare their arguments and raise no error that
depends on row data, so this migration marks them LEAKPROOF — which takes a superuser; as any
other user it says so (NOTICE) and the queries stay correct, just without those indexes.

Revision ID: 0010
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from flightdeck.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "0010"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AD_PLATFORM = postgresql.ENUM(
    "google_ads", "meta", "linkedin", "twitter", "tiktok", "snapchat", "pinterest", "reddit",
    "amazon_ads", "microsoft_ads", "youtube", "other",
    name="adplatform", create_type=False,
)  # fmt: skip
ASSET_TYPE = postgresql.ENUM(
    "image", "video", "ad_copy", "headline", "description", "call_to_action", "document",
    "performance_data", "other",
    name="campaignassettype", create_type=False,
)  # fmt: skip
IMPORT_SOURCE = postgresql.ENUM(
    "manual_upload", "platform_api", "csv_import", "bulk_import",
    name="campaignimportsource", create_type=False,
)  # fmt: skip
ENUMS = (AD_PLATFORM, ASSET_TYPE, IMPORT_SOURCE)

# Operators our GIN indexes serve, usable under row-level security once LEAKPROOF.
LEAKPROOF_FUNCTIONS = (
    "pg_catalog.ts_match_vq(tsvector, tsquery)",
    "pg_catalog.arraycontains(anyarray, anyarray)",
)


def _leakproof(on: bool) -> None:
    statements = " ".join(
        f"ALTER FUNCTION {name} {'' if on else 'NOT '}LEAKPROOF;" for name in LEAKPROOF_FUNCTIONS
    )
    op.execute(
        "DO $$ BEGIN "
        "IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN "
        f"{statements} "
        "ELSE RAISE NOTICE 'not a superuser: full-text and tag indexes stay unused under "
        "row-level security until a superuser marks ts_match_vq and arraycontains LEAKPROOF'; "
        "END IF; END $$"
    )


# Ranked full-text vectors (weights: A ranks above B above C).
SPACE_SEARCH = (
    "setweight(to_tsvector('english', coalesce(campaign_name, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(description, '')), 'B')"
)
ASSET_SEARCH = (
    "setweight(to_tsvector('english', coalesce(asset_name, '') || ' ' || coalesce(title, '')), "
    "'A') || setweight(to_tsvector('english', coalesce(headline_text, '') || ' ' || "
    "coalesce(description, '')), 'B') || setweight(to_tsvector('english', "
    "coalesce(ad_copy_text, '') || ' ' || coalesce(cta_text, '')), 'C')"
)

TABLES = (
    "asset_reuses",
    "asset_import_items",
    "campaign_assets",
    "asset_import_runs",
    "campaign_spaces",
    "asset_blobs",
)


def upgrade() -> None:
    bind = op.get_bind()
    for enum in ENUMS:
        enum.create(bind, checkfirst=False)
    op.create_table(
        "asset_blobs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=300), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_asset_blobs_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_blobs")),
        sa.UniqueConstraint("tenant_id", "sha256", name=op.f("uq_asset_blobs_tenant_id_sha256")),
    )
    op.create_table(
        "campaign_spaces",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.String(length=100), nullable=True),
        sa.Column("campaign_name", sa.String(length=255), nullable=False),
        sa.Column("platform", AD_PLATFORM, nullable=False),
        sa.Column("external_campaign_id", sa.String(length=255), nullable=True),
        sa.Column("ad_account_id", sa.Uuid(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("campaign_objective", sa.String(length=100), nullable=True),
        sa.Column("target_audience", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("budget", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("import_source", IMPORT_SOURCE, server_default="manual_upload", nullable=False),
        sa.Column(
            "import_metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.String(length=100)),
            server_default=sa.text("'{}'::character varying[]"),
            nullable=False,
        ),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("is_template", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "template_metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("asset_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "total_asset_size_bytes", sa.BigInteger(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_archived", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(SPACE_SEARCH, persisted=True),
            nullable=False,
        ),
        sa.Column(
            "total_impressions", sa.BigInteger(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("total_clicks", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "total_spend",
            sa.Numeric(precision=20, scale=6),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "total_conversions", sa.BigInteger(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column(
            "total_revenue",
            sa.Numeric(precision=20, scale=6),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("ctr", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("roas", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("performance_source", sa.String(length=50), nullable=True),
        sa.Column("performance_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["ad_account_id"],
            ["ad_accounts.id"],
            name=op.f("fk_campaign_spaces_ad_account_id_ad_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_campaign_spaces_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_spaces")),
    )
    op.create_index(
        "ix_campaign_spaces_external",
        "campaign_spaces",
        ["tenant_id", "platform", "external_campaign_id"],
        unique=False,
    )
    op.create_index(
        "ix_campaign_spaces_search",
        "campaign_spaces",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_campaign_spaces_tags", "campaign_spaces", ["tags"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_campaign_spaces_tenant_brand",
        "campaign_spaces",
        ["tenant_id", "brand_id"],
        unique=False,
    )
    op.create_index(
        "ix_campaign_spaces_tenant_created",
        "campaign_spaces",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_campaign_spaces_tenant_platform",
        "campaign_spaces",
        ["tenant_id", "platform"],
        unique=False,
    )
    op.create_index(
        "ix_campaign_spaces_tenant_template",
        "campaign_spaces",
        ["tenant_id", "is_template"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "asset_import_runs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_space_id", sa.Uuid(), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("source", IMPORT_SOURCE, nullable=False),
        sa.Column("status", sa.String(length=20), server_default="queued", nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=True),
        sa.Column("upload_key", sa.String(length=300), nullable=True),
        sa.Column("upload_filename", sa.String(length=255), nullable=True),
        sa.Column(
            "options",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("total_items", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'completed', 'failed')",
            name=op.f("ck_asset_import_runs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_space_id"],
            ["campaign_spaces.id"],
            name=op.f("fk_asset_import_runs_campaign_space_id_campaign_spaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_asset_import_runs_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_import_runs")),
        sa.UniqueConstraint("workflow_id", name=op.f("uq_asset_import_runs_workflow_id")),
    )
    op.create_index(
        "ix_asset_import_runs_space_created",
        "asset_import_runs",
        ["campaign_space_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_asset_import_runs_tenant_id", "asset_import_runs", ["tenant_id"], unique=False
    )
    op.create_index(
        "uq_asset_import_runs_active_space",
        "asset_import_runs",
        ["campaign_space_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.create_table(
        "campaign_assets",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_space_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.String(length=100), nullable=True),
        sa.Column("asset_name", sa.String(length=255), nullable=False),
        sa.Column("asset_type", ASSET_TYPE, nullable=False),
        sa.Column("import_source", IMPORT_SOURCE, server_default="manual_upload", nullable=False),
        sa.Column("import_run_id", sa.Uuid(), nullable=True),
        sa.Column("external_asset_id", sa.String(length=255), nullable=True),
        sa.Column("blob_id", sa.Uuid(), nullable=True),
        sa.Column("file_url", sa.Text(), nullable=True),
        sa.Column("public_url", sa.Text(), nullable=True),
        sa.Column("storage_path", sa.String(length=300), nullable=True),
        sa.Column("file_hash", sa.String(length=64), nullable=True),
        sa.Column("file_size", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=True),
        sa.Column("original_filename", sa.String(length=255), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("ad_copy_text", sa.Text(), nullable=True),
        sa.Column("headline_text", sa.Text(), nullable=True),
        sa.Column("cta_text", sa.String(length=100), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("thumbnail_url", sa.Text(), nullable=True),
        sa.Column("impressions", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("clicks", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("conversions", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "spend", sa.Numeric(precision=20, scale=6), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("ctr", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column(
            "platform_metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "platform_variants",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.String(length=100)),
            server_default=sa.text("'{}'::character varying[]"),
            nullable=False,
        ),
        sa.Column("reused_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_reused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(ASSET_SEARCH, persisted=True),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["blob_id"], ["asset_blobs.id"], name=op.f("fk_campaign_assets_blob_id_asset_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_space_id"],
            ["campaign_spaces.id"],
            name=op.f("fk_campaign_assets_campaign_space_id_campaign_spaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["import_run_id"],
            ["asset_import_runs.id"],
            name=op.f("fk_campaign_assets_import_run_id_asset_import_runs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_campaign_assets_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_assets")),
    )
    op.create_index("ix_campaign_assets_blob_id", "campaign_assets", ["blob_id"], unique=False)
    op.create_index(
        "ix_campaign_assets_search",
        "campaign_assets",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_campaign_assets_space_created",
        "campaign_assets",
        ["campaign_space_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_campaign_assets_tags", "campaign_assets", ["tags"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_campaign_assets_tenant_created",
        "campaign_assets",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_campaign_assets_tenant_hash",
        "campaign_assets",
        ["tenant_id", "file_hash"],
        unique=False,
    )
    op.create_index(
        "ix_campaign_assets_tenant_type",
        "campaign_assets",
        ["tenant_id", "asset_type"],
        unique=False,
    )
    op.create_index(
        "uq_campaign_assets_external",
        "campaign_assets",
        ["campaign_space_id", "asset_type", "external_asset_id"],
        unique=True,
        postgresql_where=sa.text("external_asset_id IS NOT NULL"),
    )
    op.create_table(
        "asset_import_items",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("item_key", sa.String(length=400), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'imported', 'skipped', 'failed')",
            name=op.f("ck_asset_import_items_state"),
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["campaign_assets.id"],
            name=op.f("fk_asset_import_items_asset_id_campaign_assets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["asset_import_runs.id"],
            name=op.f("fk_asset_import_items_run_id_asset_import_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_asset_import_items_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_import_items")),
        sa.UniqueConstraint(
            "run_id", "item_key", name=op.f("uq_asset_import_items_run_id_item_key")
        ),
    )
    op.create_index(
        "ix_asset_import_items_run_state",
        "asset_import_items",
        ["run_id", "state", "position"],
        unique=False,
    )
    op.create_index(
        "ix_asset_import_items_tenant_id", "asset_import_items", ["tenant_id"], unique=False
    )
    op.create_table(
        "asset_reuses",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=True),
        sa.Column("actor", sa.String(length=50), nullable=False),
        sa.Column("reused_in_type", sa.String(length=50), nullable=False),
        sa.Column("reused_in_id", sa.String(length=255), nullable=False),
        sa.Column("reused_in_name", sa.String(length=255), nullable=True),
        sa.Column("platform", AD_PLATFORM, nullable=True),
        sa.Column(
            "context",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "reused_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["campaign_assets.id"],
            name=op.f("fk_asset_reuses_asset_id_campaign_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_asset_reuses_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_reuses")),
        sa.UniqueConstraint(
            "asset_id",
            "reused_in_type",
            "reused_in_id",
            name=op.f("uq_asset_reuses_asset_id_reused_in_type_reused_in_id"),
        ),
    )
    op.create_index(
        "ix_asset_reuses_tenant_reused_at", "asset_reuses", ["tenant_id", "reused_at"], unique=False
    )
    for table in TABLES:
        enable_tenant_rls(table, typed=False)
    _leakproof(True)


def downgrade() -> None:
    _leakproof(False)
    for table in TABLES:
        disable_tenant_rls(table)
    op.drop_index("ix_asset_reuses_tenant_reused_at", table_name="asset_reuses")
    op.drop_table("asset_reuses")
    op.drop_index("ix_asset_import_items_tenant_id", table_name="asset_import_items")
    op.drop_index("ix_asset_import_items_run_state", table_name="asset_import_items")
    op.drop_table("asset_import_items")
    op.drop_index(
        "uq_campaign_assets_external",
        table_name="campaign_assets",
        postgresql_where=sa.text("external_asset_id IS NOT NULL"),
    )
    op.drop_index("ix_campaign_assets_tenant_type", table_name="campaign_assets")
    op.drop_index("ix_campaign_assets_tenant_hash", table_name="campaign_assets")
    op.drop_index("ix_campaign_assets_tenant_created", table_name="campaign_assets")
    op.drop_index("ix_campaign_assets_tags", table_name="campaign_assets", postgresql_using="gin")
    op.drop_index("ix_campaign_assets_space_created", table_name="campaign_assets")
    op.drop_index("ix_campaign_assets_search", table_name="campaign_assets", postgresql_using="gin")
    op.drop_index("ix_campaign_assets_blob_id", table_name="campaign_assets")
    op.drop_table("campaign_assets")
    op.drop_index(
        "uq_asset_import_runs_active_space",
        table_name="asset_import_runs",
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.drop_index("ix_asset_import_runs_tenant_id", table_name="asset_import_runs")
    op.drop_index("ix_asset_import_runs_space_created", table_name="asset_import_runs")
    op.drop_table("asset_import_runs")
    op.drop_index(
        "ix_campaign_spaces_tenant_template",
        table_name="campaign_spaces",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index("ix_campaign_spaces_tenant_platform", table_name="campaign_spaces")
    op.drop_index("ix_campaign_spaces_tenant_created", table_name="campaign_spaces")
    op.drop_index("ix_campaign_spaces_tenant_brand", table_name="campaign_spaces")
    op.drop_index("ix_campaign_spaces_tags", table_name="campaign_spaces", postgresql_using="gin")
    op.drop_index("ix_campaign_spaces_search", table_name="campaign_spaces", postgresql_using="gin")
    op.drop_index("ix_campaign_spaces_external", table_name="campaign_spaces")
    op.drop_table("campaign_spaces")
    op.drop_table("asset_blobs")
    bind = op.get_bind()
    for enum in reversed(ENUMS):
        enum.drop(bind, checkfirst=False)
