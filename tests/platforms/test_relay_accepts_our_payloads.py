"""The payloads `domain/transforms.py` builds from a plan go through the relay client into the
simulator unchanged, for every budget type and objective: the publish path cannot be refused
by our own simulator for a shape we send on purpose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flightdeck.domain import transforms as t
from flightdeck.domain.plans import CampaignPlanIn
from flightdeck.platforms.strategis import StrategisClient, StrategisRelayClient

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plan.json"


def plan(budget_type: str, objective: str) -> CampaignPlanIn:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text())
    data["objective"] = objective
    for ad_set in data["adSets"]:
        ad_set["budgetType"] = budget_type
    return CampaignPlanIn.model_validate(data)


@pytest.mark.parametrize("budget_type", ["ABO", "CBO"])
@pytest.mark.parametrize(
    "objective", ["CONVERSIONS", "OUTCOME_LEADS", "LINK_CLICKS", "REACH", "OUTCOME_ENGAGEMENT"]
)
async def test_publish_payloads_are_accepted(
    strategis: StrategisClient, relay: StrategisRelayClient, budget_type: str, objective: str
) -> None:
    p = plan(budget_type, objective)
    org, request_id = p.organization, p.request_id

    async def create(kind: Any, key: str, body: dict[str, Any]) -> str:
        return await relay.create(kind, organization=org, client_request_key=key, body=body)

    campaign_id = await create("campaigns", t.campaign_key(request_id), t.campaign_payload(p, "c"))
    template = await strategis.create_template(org, "fb", {"networkName": "facebook"})
    for i, ad_set in enumerate(p.ad_sets):
        body = t.adset_payload(p, ad_set, f"s{i}", campaign_id)
        adset_id = await create("adsets", t.adset_key(request_id, i), body)
        tracking = await strategis.create_campaign(
            t.tracking_campaign_payload(
                p, name=f"c - s{i}", template_id=template["id"], fb_campaign_id=campaign_id,
                fb_ad_set_id=adset_id,
            )
        )  # fmt: skip
        link = t.tracking_url("https://r.strateg.is", tracking["id"])
        for j, ad in enumerate(ad_set.ads):
            creative = t.creative_payload(p, ad, f"a{i}-{j}", link)
            creative_id = await create("adcreatives", t.creative_key(request_id, i, j), creative)
            ad_body = t.ad_payload(f"a{i}-{j}", adset_id, creative_id)
            await create("ads", t.ad_key(request_id, i, j), ad_body)
    got = await relay.get("campaigns", campaign_id, organization=org)
    assert got["objective"] == t.outcome_objective(objective)
