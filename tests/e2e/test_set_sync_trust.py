"""Set sync under the faults of issue 8: adoption never crosses sets, posts are ledgered like
every other create, and every run and row ends in a recorded state."""

from __future__ import annotations

import asyncio
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


async def test_two_tenants_on_one_profile_never_take_each_others_posts(rig: System) -> None:
    """Two tenants connected to the same Reddit profile sync ads with the very same copy at
    once, and some post creates lose their answer. A post carries no marker, so a lost answer
    is only resolved safely if no other post create on the profile is unrecorded meanwhile:
    a lookup never runs while a create is in flight, whichever tenant sends it (CI's chaos run
    had one tenant adopt the post the other had just made and not yet recorded), and every
    post is mapped by exactly one ad."""
    other = await rig.new_tenant_headers()
    accounts = [await rig.connect_reddit(), await rig.connect_reddit(other)]
    sets = [
        await rig.create_set([campaign(i) for i in range(3)], account, headers=headers)
        for account, headers in zip(accounts, (rig.headers, other), strict=True)
    ]
    post_create, slow = r"/profiles/[^/]+/posts$", 2.0
    await rig.faults(
        # The first two creates are slow (answered after `slow` s)...
        {"platform": "reddit", "method": "POST", "path": post_create,
         "latencyMs": int(slow * 1000), "remaining": 2},
        # ... while some of the others lose their answer, so their lookups come meanwhile.
        {"platform": "reddit", "method": "POST", "path": post_create, "lostResponseRate": 0.5},
        seed=3,
    )  # fmt: skip
    jobs = await asyncio.gather(rig.sync(sets[0]["id"]), rig.sync(sets[1]["id"], headers=other))
    assert [(j["status"], j["progress"]["synced"]) for j in jobs] == [("completed", 3)] * 2, jobs
    creates = await requests(rig, "POST", post_create)
    assert any(r["fault"] == "lost_response" for r in creates), creates
    lookups = [r["at"] for r in await requests(rig, "GET", r"/profiles/[^/]+/posts$")]
    assert lookups, "a lost answer is looked up"
    slow_creates = sorted(r["at"] for r in creates)[:2]
    during = [g for g in lookups for p in slow_creates if p <= g < p + slow]
    assert not during, "a post lookup ran while another post create was in flight"

    posts = {p["id"] for p in await rig.reddit_objects("posts")}
    ads = await rig.reddit_objects("ads")
    assert len(posts) == len(ads) == 6 and {a["post_id"] for a in ads} == posts
    mapped = []
    for created, headers in zip(sets, (rig.headers, other), strict=True):
        tree = (await rig.api.get(f"/api/v1/campaign-sets/{created['id']}", headers=headers)).json()
        mapped += [
            ad["platformPostId"]
            for c in tree["campaigns"]
            for group in c["adGroups"]
            for ad in group["ads"]
        ]
    assert sorted(mapped) == sorted(posts)  # each post mapped once, by one tenant's ad
