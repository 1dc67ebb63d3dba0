"""Every table, importable from one place (Alembic reads `Base.metadata` from here)."""

from flightdeck.db.models.audit_log import AuditEntry
from flightdeck.db.models.base import Base
from flightdeck.db.models.campaign_plans import (
    CampaignError,
    CampaignPlan,
    CampaignRequest,
    StrategisTemplate,
)
from flightdeck.db.models.remote_objects import RemoteObject
from flightdeck.db.models.tenants import ApiKey, Tenant

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "CampaignError",
    "CampaignPlan",
    "CampaignRequest",
    "RemoteObject",
    "StrategisTemplate",
    "Tenant",
]
