"""`/api/v1/campaign-mappings`: find a mapping by requestId or Facebook campaign ID (seed 000)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from flightdeck.api.deps import SessionDep, TenantDep
from flightdeck.api.errors import ApiError, not_found
from flightdeck.api.publishing import load_mapping
from flightdeck.db.repositories.campaign_plans import CampaignPlanRepository
from flightdeck.domain.mapping import CampaignMapping

router = APIRouter(prefix="/campaign-mappings", tags=["campaign mappings"])


@router.get("", response_model=CampaignMapping)
async def find_campaign_mapping(
    tenant: TenantDep,
    session: SessionDep,
    request_id: Annotated[str | None, Query(alias="requestId")] = None,
    facebook_campaign_id: Annotated[str | None, Query(alias="facebookCampaignId")] = None,
) -> CampaignMapping:
    """Exactly one of `requestId` or `facebookCampaignId`."""
    if (request_id is None) == (facebook_campaign_id is None):
        raise ApiError(
            422,
            "validation_error",
            [
                {
                    "field": "requestId",
                    "message": "give exactly one of requestId, facebookCampaignId",
                }
            ],
        )
    plans = CampaignPlanRepository(session)
    if request_id is not None:
        plan = await plans.get_by_request_id(tenant.id, request_id)
    else:
        plan = await plans.find_by_facebook_campaign_id(tenant.id, facebook_campaign_id or "")
    if plan is None:
        raise not_found("campaign mapping")
    return await load_mapping(session, plan)
