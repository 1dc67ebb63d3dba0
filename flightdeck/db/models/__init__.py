"""Every table, importable from one place (Alembic reads `Base.metadata` from here)."""

from flightdeck.db.models.audit_log import AuditLogEntry
from flightdeck.db.models.base import Base
from flightdeck.db.models.campaign_errors import CampaignError
from flightdeck.db.models.campaign_plans import PLAN_STATUSES, CampaignPlan
from flightdeck.db.models.campaign_requests import CampaignRequest
from flightdeck.db.models.remote_objects import LEDGER_STATES, RemoteObject
from flightdeck.db.models.strategis_templates import StrategisTemplate
from flightdeck.db.models.tenants import ApiKey, Tenant

__all__ = [
    "LEDGER_STATES",
    "PLAN_STATUSES",
    "ApiKey",
    "AuditLogEntry",
    "Base",
    "CampaignError",
    "CampaignPlan",
    "CampaignRequest",
    "RemoteObject",
    "StrategisTemplate",
    "Tenant",
]
