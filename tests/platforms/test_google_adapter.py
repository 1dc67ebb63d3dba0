"""The Google Ads set-sync adapter against the simulator over real HTTP: a campaign's whole tree
in one atomic googleAds:mutate (exact object counts; nothing at all when one operation fails),
updates that send only changed fields with an updateMask (no request when nothing changed),
keyword replacement, ad copy edited in place, pause/resume/delete, Google's rules checked
before sending, and adoption by the entity's marker (name suffix, or an ad's label) after a
lost answer: no duplicates, and never another set's object of the same name.
Every request is also checked against the documented resource fields."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from flightdeck.domain.adoption import entity_ref
from flightdeck.domain.campaign_sets import (
    AdGroupSpec,
    AdSpec,
    Budget,
    CampaignSpec,
    KeywordSpec,
)
from flightdeck.platforms.campaign_set_adapter import (
    AccountContext,
    TreeEntityRefused,
    TreeSlot,
    tree_adapter,
)
from flightdeck.platforms.errors import NonRetryableError, RetryableError
from flightdeck.platforms.google_adapter import GoogleCampaignSetAdapter, TreeRefs
from flightdeck.platforms.google_ads import GoogleAdsClient
from flightdeck.platforms.google_ads_errors import error_codes, is_ambiguous
from tests.platforms.test_google_ads_client import Recorder, Tokens, contract_problems
from tests.simulators.google_ads_support import CID, MANAGER, GoogleSim

ACCOUNT = AccountContext(account_id=CID)


def ref() -> str:
    """A fresh entity's adoption marker."""
    import uuid

    return entity_ref("campaign", uuid.uuid4())


def campaign(name: str = "Spring Sale", **changes: Any) -> CampaignSpec:
    fields: dict[str, Any] = {
        "name": name,
        "objective": "traffic",
        "budget": Budget(type="daily", amount=Decimal("50")),
        "status": "active",
    }
    return CampaignSpec(**{**fields, **changes})


def ad_group(name: str = "Shoes", **changes: Any) -> AdGroupSpec:
    fields: dict[str, Any] = {
        "name": name,
        "status": "active",
        "bid_strategy": "manual_cpc",
        "bid_amount": Decimal("1.25"),
        "keywords": [KeywordSpec(text=f"{name} {n}") for n in range(4)]
        + [KeywordSpec(text="free", negative=True)],
    }
    return AdGroupSpec(**{**fields, **changes})


def ad(name: str = "Ad 1", **changes: Any) -> AdSpec:
    fields: dict[str, Any] = {
        "name": name,
        "status": "active",
        "headline": "Fresh running shoes\nFree shipping today\nShop the spring sale",
        "description": "All sizes in stock, delivered fast.\nReturns are free for 60 days.",
        "final_url": "https://example.com/shoes",
        "display_url": "example.com/shoes/spring",
    }
    return AdSpec(**{**fields, **changes})


@pytest.fixture
async def sim(simulator_url: str) -> AsyncIterator[GoogleSim]:
    async with httpx.AsyncClient(base_url=simulator_url, timeout=30) as http:
        google = GoogleSim(http)
        await google.setup()
        yield google
        await http.post("/_sim/faults", json={"rules": []})


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    recording = Recorder()
    yield recording
    problems = [p for request in recording.requests for p in contract_problems(request)]
    assert problems == [], "every request follows the documented fields"


@pytest.fixture
async def adapter(
    sim: GoogleSim, simulator_url: str, recorder: Recorder
) -> AsyncIterator[GoogleCampaignSetAdapter]:
    tokens = Tokens(sim.http, "flightdeck.test@example.com")
    async with GoogleAdsClient(
        f"{simulator_url}/google",
        token_provider=tokens,
        login_customer_id=MANAGER,
        transport=recorder,
    ) as client:
        yield GoogleCampaignSetAdapter(client)


def mutates(recorder: Recorder) -> list[dict[str, Any]]:
    import json

    return [json.loads(r.content) for r in recorder.requests if r.url.path.endswith(":mutate")]


async def test_the_whole_tree_in_one_atomic_mutate(
    adapter: GoogleCampaignSetAdapter, sim: GoogleSim, recorder: Recorder
) -> None:
    groups = [(ad_group("Shoes"), [ad("Ad 1"), ad("Ad 2")]), (ad_group("Socks"), [ad("Ad 1")])]
    refs = TreeRefs(ref(), [ref(), ref()], [[ref(), ref()], [ref()]])
    tree = await adapter.create_campaign_tree(ACCOUNT, campaign(), groups, refs=refs)
    counts = await sim.counts()
    assert {k: v for k, v in counts.items() if k != "changeEvents"} == {
        "campaignBudgets": 1,
        "campaigns": 1,
        "adGroups": 2,
        "adGroupAds": 3,
        "adGroupCriteria": 10,
        "labels": 3,  # a marker label per ad
        "adGroupAdLabels": 3,
    }
    sent = mutates(recorder)
    assert len(sent) == 2, "one atomic tree, then the campaign enabled"
    assert len(sent[0]["mutateOperations"]) == 1 + 1 + 2 + 10 + 3 + 3 + 3
    assert sent[1] == {
        "operations": [
            {
                "update": {"resourceName": tree.campaign.platform_id, "status": "ENABLED"},
                "updateMask": "status",
            }
        ]
    }
    created = sent[0]["mutateOperations"][1]["campaignOperation"]["create"]
    assert created["name"] == f"Spring Sale [fd:{refs.campaign}]", "created with its marker"
    assert created["status"] == "PAUSED" and created["manualCpc"] == {}
    assert created["containsEuPoliticalAdvertising"] == "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING"
    assert tree.campaign.status == "ENABLED" and len(tree.ads[0]) == 2

    found = await adapter.find_ad(
        ACCOUNT, tree.ad_groups[0].platform_id, "Ad 2", ref=refs.ads[0][1]
    )
    assert found is not None and found.platform_id == tree.ads[0][1].platform_id
    assert found.adopted
    campaign_found = await adapter.find_campaign(ACCOUNT, "Spring Sale", ref=refs.campaign)
    assert campaign_found is not None and campaign_found.platform_id == tree.campaign.platform_id
    assert await adapter.find_campaign(ACCOUNT, "Spring Sale") is None, "never by a bare name"


async def test_create_tree_is_one_request_and_find_tree_finds_it_whole(
    adapter: GoogleCampaignSetAdapter, sim: GoogleSim, recorder: Recorder
) -> None:
    """The set sync's capability: the tree PAUSED in exactly one request (no label lookup when
    no marker was ever sent), then found whole by its markers, keywords included."""
    assert tree_adapter(adapter) is adapter
    groups = [(ad_group("Shoes"), [ad("Ad 1"), ad("Ad 2")]), (ad_group("Socks"), [ad("Ad 1")])]
    refs = TreeRefs(ref(), [ref(), ref()], [[ref(), ref()], [ref()]])
    tree = await adapter.create_tree(ACCOUNT, campaign(), groups, refs=refs, labels_may_exist=False)
    assert [r.url.path.rsplit("/", 1)[-1] for r in recorder.requests] == ["googleAds:mutate"]
    assert tree.campaign.status == "PAUSED"
    assert (await sim.counts())["campaigns"] == 1

    found = await adapter.find_tree(ACCOUNT, campaign(), groups, refs=refs)
    assert found is not None and found.campaign.adopted
    assert found.campaign.platform_id == tree.campaign.platform_id
    assert [g and g.platform_id for g in found.ad_groups] == [
        g and g.platform_id for g in tree.ad_groups
    ]
    assert [[a and a.platform_id for a in ads] for ads in found.ads] == [
        [a and a.platform_id for a in ads] for ads in tree.ads
    ]
    assert found.keywords == tree.keywords and len(found.keywords[0]) == 5
    assert await adapter.find_tree(ACCOUNT, campaign(), groups, refs=TreeRefs(ref())) is None


async def test_a_refused_operation_names_its_entity(
    adapter: GoogleCampaignSetAdapter, sim: GoogleSim
) -> None:
    """Google's error says which operation it refused; the adapter maps that index back to our
    entity (here the second ad group's fourth keyword), and nothing was created."""
    rejection = {"contains": "Socks 3", "errorCode": {"policyViolationError": "POLICY_ERROR"}}
    assert (await sim.http.post("/_sim/google/rejections", json=rejection)).status_code == 201
    before = await sim.counts()
    groups = [(ad_group("Shoes"), [ad()]), (ad_group("Socks"), [ad()])]
    try:
        with pytest.raises(TreeEntityRefused) as refused:
            await adapter.create_tree(ACCOUNT, campaign(), groups, refs=TreeRefs(ref()))
    finally:
        await sim.http.post("/_sim/google/rejections/clear")
    assert refused.value.slot == TreeSlot("keyword", 1, 3)
    assert "ad group 'Socks', keyword 'Socks 3'" in refused.value.message
    assert "policyViolationError.POLICY_ERROR" in error_codes(refused.value)
    assert await sim.counts() == before


async def test_one_failing_operation_leaves_nothing(
    adapter: GoogleCampaignSetAdapter, sim: GoogleSim
) -> None:
    await adapter.create_campaign(ACCOUNT, campaign("Taken"))
    before = await sim.counts()
    groups = [(ad_group("Shoes"), [ad()])]
    with pytest.raises(NonRetryableError) as refused:
        await adapter.create_campaign_tree(ACCOUNT, campaign("Taken"), groups)
    assert "campaignError.DUPLICATE_CAMPAIGN_NAME" in error_codes(refused.value)
    assert await sim.counts() == before, "no budget, ad group, ad or keyword was left behind"


async def test_google_rules_are_checked_before_sending(
    adapter: GoogleCampaignSetAdapter, recorder: Recorder
) -> None:
    with pytest.raises(NonRetryableError) as one_headline:
        await adapter.create_campaign_tree(
            ACCOUNT, campaign(), [(ad_group(), [ad(headline="Only one headline")])]
        )
    assert one_headline.value.details["fields"][0]["field"] == "headline"
    assert isinstance(one_headline.value, TreeEntityRefused), "a tree's check names the entity"
    assert one_headline.value.slot == TreeSlot("ad", 0, 0)
    assert one_headline.value.message.startswith("ad group 'Shoes', ad 'Ad 1': headline:")
    with pytest.raises(NonRetryableError) as too_long:
        await adapter.create_ad_creative(ACCOUNT, ad(headline="x" * 31 + "\nb\nc"))
    assert "over 30 characters" in str(too_long.value)
    with pytest.raises(NonRetryableError) as lifetime:
        await adapter.create_campaign(
            ACCOUNT, campaign(budget=Budget(type="lifetime", amount=Decimal("500")))
        )
    assert lifetime.value.details["fields"][0]["field"] == "budget.type"
    assert not [r for r in recorder.requests if r.url.path.endswith(":mutate")]


async def test_updates_send_only_changed_fields_with_a_mask(
    adapter: GoogleCampaignSetAdapter, sim: GoogleSim, recorder: Recorder
) -> None:
    base = campaign()
    tree = await adapter.create_campaign_tree(ACCOUNT, base, [(ad_group(), [ad()])])
    recorder.requests.clear()

    same = await adapter.update_campaign(ACCOUNT, tree.campaign.platform_id, base, base)
    assert same.changed_fields == [] and recorder.requests == [], "no change, no request"

    wanted = campaign(status="paused", budget=Budget(type="daily", amount=Decimal("75")))
    updated = await adapter.update_campaign(ACCOUNT, tree.campaign.platform_id, wanted, base)
    assert updated.changed_fields == ["budget", "status"]
    [sent] = mutates(recorder)
    assert [list(op) for op in sent["mutateOperations"]] == [
        ["campaignBudgetOperation"],
        ["campaignOperation"],
    ]
    budget_op = sent["mutateOperations"][0]["campaignBudgetOperation"]
    assert budget_op["updateMask"] == "amountMicros"
    assert budget_op["update"]["amountMicros"] == "75000000"
    assert sent["mutateOperations"][1]["campaignOperation"]["updateMask"] == "status"
    rows = await sim.rows("SELECT campaign.status, campaign_budget.amount_micros FROM campaign")
    assert rows[0]["campaign"]["status"] == "PAUSED"
    assert rows[0]["campaignBudget"]["amountMicros"] == "75000000"


async def test_keyword_replacement_and_ad_copy_edits(
    adapter: GoogleCampaignSetAdapter, sim: GoogleSim, recorder: Recorder
) -> None:
    group = ad_group(keywords=[KeywordSpec(text="red shoes"), KeywordSpec(text="blue shoes")])
    tree = await adapter.create_campaign_tree(ACCOUNT, campaign(), [(group, [ad()])])
    group_id = tree.ad_groups[0].platform_id
    recorder.requests.clear()

    changed = group.model_copy(
        update={"keywords": [KeywordSpec(text="red shoes"), KeywordSpec(text="green shoes")]}
    )
    result = await adapter.update_ad_group(ACCOUNT, group_id, campaign(), changed, group)
    assert "keywords.replaced" in result.changed_fields
    [sent] = [m for m in mutates(recorder)]
    kinds = [next(iter(op["adGroupCriterionOperation"])) for op in sent["mutateOperations"]]
    assert kinds == ["remove", "create"], "text is immutable: removed and created, atomically"
    live = await sim.rows(
        "SELECT ad_group_criterion.keyword.text FROM ad_group_criterion "
        "WHERE ad_group_criterion.status != 'REMOVED' ORDER BY ad_group_criterion.keyword.text"
    )
    assert [r["adGroupCriterion"]["keyword"]["text"] for r in live] == [
        "green shoes",
        "red shoes",
    ]

    recorder.requests.clear()
    base = ad()
    new_copy = ad(headline="Fresh running shoes\nFree shipping today\nNew: trail shoes")
    edited = await adapter.update_ad(ACCOUNT, tree.ads[0][0].platform_id, new_copy, base)
    assert edited.changed_fields == ["responsiveSearchAd.headlines"]
    [sent] = mutates(recorder)
    ad_op = sent["mutateOperations"][0]["adOperation"]
    assert ad_op["updateMask"] == "responsiveSearchAd.headlines"
    rows = await sim.rows("SELECT ad_group_ad.ad.responsive_search_ad.headlines FROM ad_group_ad")
    headlines = rows[0]["adGroupAd"]["ad"]["responsiveSearchAd"]["headlines"]
    assert headlines[-1] == {"text": "New: trail shoes"}


async def test_pause_resume_and_delete(adapter: GoogleCampaignSetAdapter, sim: GoogleSim) -> None:
    marker = ref()
    tree = await adapter.create_campaign_tree(
        ACCOUNT, campaign(), [(ad_group(), [ad()])], refs=TreeRefs(campaign=marker)
    )
    name = tree.campaign.platform_id
    assert (await adapter.set_status(ACCOUNT, "campaign", name, "paused")).status == "PAUSED"
    assert (await adapter.set_status(ACCOUNT, "ad", tree.ads[0][0].platform_id, "paused")).status
    assert (await adapter.set_status(ACCOUNT, "campaign", name, "active")).status == "ENABLED"
    removed = await adapter.set_status(ACCOUNT, "campaign", name, "deleted")
    again = await adapter.set_status(ACCOUNT, "campaign", name, "deleted")
    assert removed.status == again.status == "REMOVED", "a repeated delete succeeds"
    assert await adapter.find_campaign(ACCOUNT, "Spring Sale", ref=marker) is None
    rows = await sim.rows("SELECT campaign.status, campaign_budget.status FROM campaign")
    assert rows[0]["campaign"]["status"] == "REMOVED"
    assert rows[0]["campaignBudget"]["status"] == "REMOVED", "its own budget went with it"


async def test_a_lost_answer_is_adopted_not_duplicated(
    adapter: GoogleCampaignSetAdapter, sim: GoogleSim
) -> None:
    async def lose(path: str) -> None:
        rule = {"platform": "google", "path": path, "lostResponseRate": 1.0, "remaining": 1}
        await sim.http.post("/_sim/faults", json={"rules": [rule]})

    marker, group_marker = ref(), ref()
    await lose("googleAds:mutate")
    with pytest.raises(RetryableError) as lost:
        await adapter.create_campaign_tree(
            ACCOUNT,
            campaign(),
            [(ad_group(), [])],
            refs=TreeRefs(campaign=marker, ad_groups=[group_marker]),
        )
    assert is_ambiguous(lost.value)
    adopted = await adapter.find_campaign(ACCOUNT, "Spring Sale", ref=marker)
    assert adopted is not None and adopted.adopted
    # Renamed locally between the lost answer and the retry: still found by its marker.
    assert await adapter.find_campaign(ACCOUNT, "Renamed", ref=marker) == adopted
    group = await adapter.find_ad_group(ACCOUNT, adopted.platform_id, "Shoes", ref=group_marker)
    assert group is not None
    assert await adapter.find_ad_group(ACCOUNT, adopted.platform_id, "Shoes", ref=ref()) is None

    ad_marker = ref()
    await lose("googleAds:mutate")
    with pytest.raises(RetryableError):
        await adapter.create_ad(ACCOUNT, group.platform_id, ad("Late ad"), ref=ad_marker)
    found = await adapter.find_ad(ACCOUNT, group.platform_id, "Late ad", ref=ad_marker)
    assert found is not None and found.adopted
    assert (await sim.counts())["adGroupAds"] == 1
    assert (await sim.counts())["campaigns"] == 1
    # Another ad of the same name in another ad group is another entity: its own marker.
    other = await adapter.create_ad_group(
        ACCOUNT, adopted.platform_id, campaign(), ad_group("Boots"), ref=ref()
    )
    assert await adapter.find_ad(ACCOUNT, other.platform_id, "Late ad", ref=ad_marker) is None
    await adapter.create_ad(ACCOUNT, other.platform_id, ad("Late ad"), ref=ref())
    assert (await sim.counts())["labels"] == 2


async def test_another_sets_campaign_of_the_same_name_is_never_adopted(
    adapter: GoogleCampaignSetAdapter, sim: GoogleSim
) -> None:
    """Two sets each have a "Spring Sale" in the same account: both exist side by side (the
    markers make the names unique), and a retry of one never adopts the other's."""
    theirs = await adapter.create_campaign(ACCOUNT, campaign(), ref=ref())
    ours = ref()
    assert await adapter.find_campaign(ACCOUNT, "Spring Sale", ref=ours) is None
    made = await adapter.create_campaign(ACCOUNT, campaign(), ref=ours)
    assert made.platform_id != theirs.platform_id
    found = await adapter.find_campaign(ACCOUNT, "Spring Sale", ref=ours)
    assert found is not None and found.platform_id == made.platform_id
    assert (await sim.counts())["campaigns"] == 2


async def test_a_campaign_alone_is_one_request_with_its_status(
    adapter: GoogleCampaignSetAdapter, sim: GoogleSim, recorder: Recorder
) -> None:
    """Entity by entity (the sync workflows' path) there is no second request to enable the
    campaign, so a lost answer can never leave an adopted campaign paused for good."""
    made = await adapter.create_campaign(ACCOUNT, campaign())
    [sent] = mutates(recorder)
    create = sent["mutateOperations"][1]["campaignOperation"]["create"]
    assert create["status"] == "ENABLED" and made.status == "ENABLED"
    drafted = await adapter.create_campaign(ACCOUNT, campaign("Draft one", status="draft"))
    assert drafted.status == "PAUSED"
