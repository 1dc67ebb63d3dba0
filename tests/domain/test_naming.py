import json
from pathlib import Path

import pytest

from flightdeck.domain.naming import NamingConvention, NamingFormatError, generate_names
from flightdeck.domain.plans import CampaignPlanIn
from flightdeck.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plan.json"


@pytest.fixture
def plan() -> CampaignPlanIn:
    return CampaignPlanIn.model_validate(json.loads(EXAMPLE.read_text()))


def default_convention() -> NamingConvention:
    s = Settings()
    return NamingConvention(s.campaign_name_format, s.ad_set_name_format, s.ad_name_format)


def test_default_convention_names_every_level(plan: CampaignPlanIn) -> None:
    names = generate_names(plan, default_convention())
    assert names.campaign_name == (
        "BrandX_CONVERSIONS_hookset_juvederm_2025_10_21_US_FB_2025-10-21_Health"
    )
    assert names.ad_set_names == [
        "women2545_feeds_PURCHASE_ABO_v1",
        "women4565_reels_PURCHASE_ABO_v1",
    ]
    assert names.ad_names == [["hook01_0-0", "hook02_0-1"], ["hook01_1-0", "hook03_1-1"]]


def test_names_are_deterministic(plan: CampaignPlanIn) -> None:
    assert generate_names(plan, default_convention()) == generate_names(
        plan.model_copy(deep=True), default_convention()
    )


def test_format_is_a_setting(plan: CampaignPlanIn) -> None:
    with pytest.raises(NamingFormatError, match="campaignName"):
        NamingConvention("{brand} | {market}", "{campaignName}", "{hookId}")
    custom = NamingConvention("{brand} | {market}", "{brand}-{adSetIndex}", "{hookId}/{adIndex}")
    names = generate_names(plan, custom)
    assert names.campaign_name == "BrandX | US"
    assert names.ad_set_names == ["BrandX-0", "BrandX-1"]
    assert names.ad_names[1] == ["hook01/0", "hook03/1"]


def test_unknown_field_is_refused_at_construction() -> None:
    with pytest.raises(NamingFormatError, match="hookId"):
        NamingConvention("{hookId}", "{audienceKey}", "{hookId}")


def test_names_are_bounded_and_single_spaced(plan: CampaignPlanIn) -> None:
    long = plan.model_copy(update={"brand": "B  " + "x" * 500})
    names = generate_names(long, default_convention())
    assert len(names.campaign_name) == 400
    assert "  " not in names.campaign_name
