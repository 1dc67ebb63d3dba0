"""Every table, importable from one place (Alembic reads `Base.metadata` from here)."""

from flightdeck.db.models.ad_accounts import AD_ACCOUNT_STATUSES, AdAccount, OAuthState
from flightdeck.db.models.asset_imports import AssetImportItem, AssetImportRun
from flightdeck.db.models.audit_archive import AuditLogArchiveEntry
from flightdeck.db.models.audit_log import AuditLogEntry
from flightdeck.db.models.base import Base
from flightdeck.db.models.campaign_assets import AssetBlob, AssetReuse, CampaignAsset
from flightdeck.db.models.campaign_errors import CampaignError
from flightdeck.db.models.campaign_plans import PLAN_STATUSES, CampaignPlan
from flightdeck.db.models.campaign_requests import CampaignRequest
from flightdeck.db.models.campaign_sets import (
    AdGroup,
    CampaignSet,
    CampaignSetTarget,
    GeneratedAd,
    GeneratedCampaign,
    Keyword,
)
from flightdeck.db.models.campaign_spaces import CampaignSpace
from flightdeck.db.models.jobs import Job
from flightdeck.db.models.meta import (
    CampaignMetaConnection,
    CampaignState,
    MetaAd,
    MetaCampaign,
    MetaPublishedCampaign,
)
from flightdeck.db.models.metrics import CampaignMetric, MetricsSyncRun, PlatformCampaign
from flightdeck.db.models.recommendations import (
    AiActionLog,
    AiRecommendation,
    BudgetAllocation,
    PerformanceSettingsRow,
)
from flightdeck.db.models.remote_objects import LEDGER_STATES, RemoteObject
from flightdeck.db.models.strategis_templates import StrategisTemplate
from flightdeck.db.models.sync import (
    CircuitBreaker,
    PlatformCall,
    SetSyncRun,
    SyncRecord,
    UnmarkedCreate,
)
from flightdeck.db.models.sync_back import Alert, SyncBackRun, SyncConflict
from flightdeck.db.models.tenants import ApiKey, PublishTarget, Tenant, User

__all__ = [
    "CampaignSetTarget",
    "SetSyncRun",
    "AiActionLog",
    "AiRecommendation",
    "BudgetAllocation",
    "CampaignMetric",
    "MetricsSyncRun",
    "PerformanceSettingsRow",
    "PlatformCampaign",
    "AssetBlob",
    "AssetImportItem",
    "AssetImportRun",
    "AssetReuse",
    "CampaignAsset",
    "CampaignSpace",
    "AuditLogArchiveEntry",
    "CampaignMetaConnection",
    "CampaignState",
    "MetaAd",
    "MetaCampaign",
    "MetaPublishedCampaign",
    "Alert",
    "SyncBackRun",
    "SyncConflict",
    "AD_ACCOUNT_STATUSES",
    "LEDGER_STATES",
    "PLAN_STATUSES",
    "AdAccount",
    "AdGroup",
    "ApiKey",
    "AuditLogEntry",
    "Base",
    "CampaignError",
    "CampaignPlan",
    "CampaignRequest",
    "CampaignSet",
    "CircuitBreaker",
    "GeneratedAd",
    "GeneratedCampaign",
    "Job",
    "Keyword",
    "OAuthState",
    "PlatformCall",
    "PublishTarget",
    "RemoteObject",
    "StrategisTemplate",
    "SyncRecord",
    "UnmarkedCreate",
    "Tenant",
    "User",
]
