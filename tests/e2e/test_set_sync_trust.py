"""Set sync under the faults of issue 8: adoption never crosses sets, posts are ledgered like
every other create, and every run and row ends in a recorded state."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import System
from tests.e2e.test_set_sync import campaign, requests

CAMPAIGN_CREATE = r"/ad_accounts/[^/]+/campaigns$"


async def _tree(rig: System, set_id: str) -> dict[str, Any]:
    response = await rig.api.get(f"/api/v1/campaign-sets/{set_id}", headers=rig.headers)
    assert response.status_code == 200, response.text
    tree: dict[str, Any] = response.json()
    return tree


async def test_a_lost_create_never_adopts_another_sets_namesake(rig: System) -> None:
    account = await rig.connect_reddit()
    first = await rig.create_set([campaign(0)], account)
    assert (await rig.sync(first["id"]))["status"] == "completed"
    [theirs] = await rig.reddit_objects("campaigns")

    # A second set in the same ad account, with the very same campaign name; its campaign
    # create commits on Reddit but the answer is lost.
    second = await rig.create_set([campaign(0)], account)
    await rig.faults(
        {"platform": "reddit", "method": "POST", "path": CAMPAIGN_CREATE,
         "lostResponseRate": 1.0, "remaining": 1},
    )  # fmt: skip
    job = await rig.sync(second["id"])
    assert job["status"] == "completed", job
    lost = [r for r in await requests(rig, "POST", CAMPAIGN_CREATE) if r["fault"]]
    assert [r["fault"] for r in lost] == ["lost_response"]

    campaigns = await rig.reddit_objects("campaigns")
    assert len(campaigns) == 2  # the lost one adopted, no third one
    assert len(await rig.reddit_objects("ad_groups")) == 2
    assert len(await rig.reddit_objects("ads")) == 2
    assert len(await rig.reddit_objects("posts")) == 2
    ours = (await _tree(rig, second["id"]))["campaigns"][0]["platformCampaignId"]
    assert ours != theirs["id"]
    assert ours == lost[0]["createdObjectId"]
    mine = (await _tree(rig, first["id"]))["campaigns"][0]["platformCampaignId"]
    assert mine == theirs["id"]

    # Pausing, then deleting, the second set's campaign never touches the first set's.
    assert (await rig.sync(second["id"], "pause"))["status"] == "completed"
    by_id = {c["id"]: c for c in await rig.reddit_objects("campaigns")}
    assert by_id[ours]["configured_status"] == "PAUSED"
    assert by_id[theirs["id"]]["configured_status"] == "ACTIVE"
    second_campaign = (await _tree(rig, second["id"]))["campaigns"][0]["id"]
    deleted = await rig.api.delete(f"/api/v1/campaigns/{second_campaign}", headers=rig.headers)
    assert deleted.status_code == 202
    assert (await rig.sync(second["id"]))["status"] == "completed"
    by_id = {c["id"]: c for c in await rig.reddit_objects("campaigns")}
    assert by_id[ours]["configured_status"] == "DELETED"
    assert by_id[theirs["id"]]["configured_status"] == "ACTIVE"


async def test_a_429_on_a_create_is_not_ambiguous_no_lookup_follows(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(0)], account)
    await rig.faults(
        {"platform": "reddit", "method": "POST", "path": CAMPAIGN_CREATE,
         "errorRate": 1.0, "status": 429, "retryAfterSeconds": 0, "remaining": 1},
    )  # fmt: skip
    job = await rig.sync(created["id"])
    assert job["status"] == "completed", job
    assert [r["status"] for r in await requests(rig, "POST", CAMPAIGN_CREATE)] == [429, 201]
    # A 429 says nothing was made: the retry creates at once, without listing campaigns.
    assert await requests(rig, "GET", r"/ad_accounts/[^/]+/campaigns") == []
    assert len(await rig.reddit_objects("campaigns")) == 1


async def test_lost_post_answers_leave_no_orphan_posts(rig: System) -> None:
    account = await rig.connect_reddit()
    # Ads with identical copy in every campaign: the lookup must still take one post each.
    created = await rig.create_set([campaign(i) for i in range(4)], account)
    await rig.faults(
        {"platform": "reddit", "method": "POST", "path": r"/profiles/[^/]+/posts$",
         "lostResponseRate": 0.5},
        seed=3,
    )  # fmt: skip
    job = await rig.sync(created["id"])
    assert job["status"] == "completed", job
    assert (job["progress"]["synced"], job["progress"]["failed"]) == (4, 0), job
    lost = [r for r in await requests(rig, "POST", r"/posts$") if r["fault"] == "lost_response"]
    assert lost, "some post creates should have lost their answer"
    posts = await rig.reddit_objects("posts")
    ads = await rig.reddit_objects("ads")
    assert len(posts) == 4 and len(ads) == 4
    assert {a["post_id"] for a in ads} == {p["id"] for p in posts}  # every post promoted
