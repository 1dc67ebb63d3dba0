"""One campaign set synced to Reddit, Google Ads and Meta at once (issue 14 item 2), end to
end: the API, the worker on a Temporal dev server, Postgres and the three simulators over HTTP.
Exact object counts on each simulator, the mapping per platform (sync records), lost answers on
two targets without duplicates, one platform down while the others sync, pause and deletion
acting on every target."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from flightdeck.db.models import (
    AdGroup,
    GeneratedAd,
    GeneratedCampaign,
    PlatformCampaign,
    SyncRecord,
)
from flightdeck.db.repositories.platform_campaigns import PlatformCampaignRepository
from flightdeck.db.tenancy import system_session
from tests.e2e.conftest import System
from tests.e2e.meta_support import image_url
from tests.e2e.test_google_sync_back import google_sync_back, ui_edit
from tests.e2e.test_meta_set_sync import meta_account
from tests.e2e.test_set_sync import batch_id
from tests.e2e.test_sync_back import open_conflicts, resolve

SETS = "/api/v1/campaign-sets"


def campaign(rig: System, i: int) -> dict[str, Any]:
    """A campaign every platform accepts: 2 ad groups x (2 ads + 3 keywords)."""
    return {
        "name": f"Multi Summer {i}",
        "objective": "traffic",
        "status": "active",
        "budget": {"type": "daily", "amount": 40, "currency": "USD"},
        # Reddit's campaign budget optimization (CBO), which needs a start.
        "budgetOptimization": True,
        "startTime": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "adGroups": [
            {
                "name": f"Multi Summer {i} group {g}",
                "status": "active",
                "bidStrategy": "automatic",
                "targeting": {"geolocations": ["US"], "devices": ["MOBILE"]},
                "keywords": [
                    {"text": f"summer shoes {g}"},
                    {"text": f"beach sandals {g}"},
                    {"text": "free", "negative": True},
                ],
                "ads": [
                    {
                        "name": f"Multi Summer {i}-{g}-{a}",
                        "status": "active",
                        # Google's responsive search ad: one headline / description a line.
                        "headline": "Summer Sale\n30% off shoes\nThis week only",
                        "description": "All sizes in stock.\nFree returns for 60 days.",
                        "finalUrl": "https://shop.example.com/summer",
                        "displayUrl": "shop.example.com/summer",
                        "callToAction": "SHOP_NOW",
                        "imageUrl": image_url(rig, f"multi-{i}-{g}-{a}"),
                    }
                    for a in range(2)
                ],
            }
            for g in range(2)
        ],
    }


async def three_accounts(rig: System) -> dict[str, str]:
    return {
        "reddit": await rig.connect_reddit(),
        "google": await rig.connect_google(),
        "meta": await meta_account(rig),
    }


async def make_set(rig: System, accounts: dict[str, str], n: int) -> dict[str, Any]:
    body = {
        "name": f"multi-{uuid.uuid4().hex[:6]}",
        "targets": [{"platform": p, "adAccountId": a} for p, a in accounts.items()],
        "campaigns": [campaign(rig, i) for i in range(n)],
    }
    created = await rig.api.post(SETS, json=body, headers=rig.headers)
    assert created.status_code == 201, created.text
    out: dict[str, Any] = created.json()
    return out


async def counts(rig: System) -> dict[str, dict[str, int]]:
    """Live objects per platform and kind (Reddit counts deleted ones apart)."""
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]
    reddit = {
        kind: sum(
            item.get("configured_status") != "DELETED" for item in state["reddit"][kind]["items"]
        )
        for kind in ("campaigns", "ad_groups", "ads")
    }
    google = {
        kind: len(state["google"][kind]["items"])
        for kind in ("campaigns", "adGroups", "adGroupAds", "adGroupCriteria")
    }
    meta = {
        kind: len(state["facebook"].get(kind, {}).get("items", []))
        for kind in ("campaigns", "adsets", "ads")
    }
    return {"reddit": reddit, "google": google, "meta": meta}


def expected(n: int) -> dict[str, dict[str, int]]:
    return {
        "reddit": {"campaigns": n, "ad_groups": 2 * n, "ads": 4 * n},
        # Keywords are real criteria on Google: 3 per ad group.
        "google": {
            "campaigns": n,
            "adGroups": 2 * n,
            "adGroupAds": 4 * n,
            "adGroupCriteria": 6 * n,
        },
        "meta": {"campaigns": n, "adsets": 2 * n, "ads": 4 * n},
    }


async def mapping(rig: System, set_id: str) -> dict[str, dict[str, dict[uuid.UUID, str]]]:
    """platform -> entity type -> entity id -> platform id, from the sync records of this set's
    entities (the database is shared by the session's tests)."""
    async with system_session(rig.sessions, "cli") as session:
        campaigns = set(
            (
                await session.scalars(
                    select(GeneratedCampaign.id).where(
                        GeneratedCampaign.campaign_set_id == uuid.UUID(set_id)
                    )
                )
            ).all()
        )
        groups = set(
            (
                await session.scalars(select(AdGroup.id).where(AdGroup.campaign_id.in_(campaigns)))
            ).all()
        )
        ads = set(
            (
                await session.scalars(
                    select(GeneratedAd.id).where(GeneratedAd.ad_group_id.in_(groups))
                )
            ).all()
        )
        rows = (
            await session.scalars(
                select(SyncRecord).where(SyncRecord.entity_id.in_(campaigns | groups | ads))
            )
        ).all()
    found: dict[str, dict[str, dict[uuid.UUID, str]]] = {}
    for row in rows:
        if row.platform_id:
            by_type = found.setdefault(row.platform, {}).setdefault(row.entity_type, {})
            by_type[row.entity_id] = row.platform_id
    return found


async def test_one_set_synced_to_reddit_google_and_meta_at_once(rig: System) -> None:
    accounts = await three_accounts(rig)
    created = await make_set(rig, accounts, 2)
    set_id = created["id"]
    assert [t["platform"] for t in created["targets"]] == ["reddit", "google", "meta"]
    assert created["platform"] == "reddit" and created["adAccountId"] == accounts["reddit"]

    checked = (await rig.api.post(f"{SETS}/{set_id}/validate", headers=rig.headers)).json()
    assert checked["valid"], [(p["platform"], p["field"]) for p in checked["problems"]]
    assert [t["platform"] for t in checked["targets"]] == ["reddit", "google", "meta"]

    job = await rig.sync(set_id)
    assert job["status"] == "completed", job
    assert job["progress"]["total"] == 2 and job["progress"]["synced"] == 2, job
    assert {t["platform"]: t["syncStatus"] for t in job["progress"]["targets"]} == {
        "reddit": "synced", "google": "synced", "meta": "synced"
    }  # fmt: skip
    assert await counts(rig) == expected(2)
    await rig.record_history(f"sync-set-{set_id}", "sync_set_multi_target")
    await rig.record_history(await batch_id(rig, set_id, 0), "sync_batch_multi_target")

    # The mapping per platform: every campaign, ad group and ad on each, all distinct ids.
    mapped = await mapping(rig, set_id)
    for platform in ("reddit", "google", "meta"):
        assert len(mapped[platform]["campaign"]) == 2, platform
        assert len(mapped[platform]["ad_group"]) == 4, platform
        assert len(mapped[platform]["ad"]) == 8, platform
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]
    assert set(mapped["google"]["campaign"].values()) == {
        c["resourceName"] for c in state["google"]["campaigns"]["items"]
    }
    assert set(mapped["meta"]["campaign"].values()) == {
        c["id"] for c in state["facebook"]["campaigns"]["items"]
    }
    # The entities' own columns mirror the first target (Reddit).
    got = (await rig.api.get(f"{SETS}/{set_id}", headers=rig.headers)).json()
    assert {c["platformCampaignId"] for c in got["campaigns"]} == set(
        mapped["reddit"]["campaign"].values()
    )
    progress = {t["platform"]: t["progress"] for t in got["targets"]}
    for platform in ("reddit", "google", "meta"):
        assert progress[platform]["total"] == 2 and progress[platform]["synced"] == 2
        assert progress[platform]["onPlatform"] == 2

    again = await rig.sync(set_id)
    assert again["status"] == "completed", again
    assert await counts(rig) == expected(2), "a second sync creates nothing anywhere"

    paused = await rig.sync(set_id, "pause")
    assert paused["status"] == "completed", paused
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]
    assert {c["configured_status"] for c in state["reddit"]["campaigns"]["items"]} == {"PAUSED"}
    assert {c["status"] for c in state["google"]["campaigns"]["items"]} == {"PAUSED"}
    assert {c["status"] for c in state["facebook"]["campaigns"]["items"]} == {"PAUSED"}

    # Deleting a campaign reaches every target at the next sync.
    doomed = got["campaigns"][0]["id"]
    deleted = await rig.api.delete(f"/api/v1/campaigns/{doomed}", headers=rig.headers)
    assert deleted.status_code == 202, deleted.text
    synced = await rig.sync(set_id)
    assert synced["status"] == "completed", synced
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]
    by_id = {c["id"]: c for c in state["reddit"]["campaigns"]["items"]}
    assert by_id[mapped["reddit"]["campaign"][uuid.UUID(doomed)]]["configured_status"] == (
        "DELETED"
    )
    google = {c["resourceName"]: c for c in state["google"]["campaigns"]["items"]}
    assert google[mapped["google"]["campaign"][uuid.UUID(doomed)]]["status"] == "REMOVED"
    meta = {c["id"]: c for c in state["facebook"]["campaigns"]["items"]}
    assert meta[mapped["meta"]["campaign"][uuid.UUID(doomed)]]["status"] == "DELETED"


async def test_lost_answers_on_two_targets_leave_no_duplicates(rig: System) -> None:
    """A third of Reddit's create answers and the first two of Google's (each a whole campaign
    tree's one `googleAds:mutate`) are lost after the objects were made: each target's retry
    finds its own objects by their markers, on its own account, never the other's."""
    accounts = await three_accounts(rig)
    created = await make_set(rig, accounts, 3)
    await rig.faults(
        {"platform": "reddit", "method": "POST", "lostResponseRate": 0.35},
        {"platform": "google", "path": "googleAds:mutate", "lostResponseRate": 1.0, "remaining": 2},
        seed=11,
    )
    job = await rig.sync(created["id"])
    assert job["status"] == "completed", job
    log = (await rig.sim.get("/_sim/requests")).json()
    lost = {e["platform"] for e in log if e.get("fault") == "lost_response"}
    assert {"reddit", "google"} <= lost, lost
    assert await counts(rig) == expected(3)
    mapped = await mapping(rig, created["id"])
    for platform in ("reddit", "google", "meta"):
        assert len(set(mapped[platform]["ad"].values())) == 12, platform


async def stream(rig: System, set_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The set's sync stream, followed to its end."""
    events: list[tuple[str, dict[str, Any]]] = []
    async with rig.api.stream(
        "GET", f"{SETS}/{set_id}/sync-stream", headers=rig.headers, timeout=120
    ) as response:
        name = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name:
                events.append((name, json.loads(line.removeprefix("data: "))))
    return events


async def test_one_platform_down_does_not_hold_the_others(rig: System) -> None:
    """Google answers 503 to everything: its target fails with the reason, Reddit and Meta get
    the whole set."""
    accounts = await three_accounts(rig)
    created = await make_set(rig, accounts, 2)
    await rig.faults(
        {"platform": "google", "path": "googleAds:mutate", "status": 503, "errorRate": 1.0}
    )
    set_id = created["id"]
    accepted = await rig.api.post(f"{SETS}/{set_id}/sync", headers=rig.headers)
    assert accepted.status_code == 202, accepted.text
    events = await stream(rig, set_id)
    job = await rig.wait_job(f"sync-set-{set_id}")
    assert job["status"] == "completed_with_errors", job
    # The stream: each campaign once, with where it stands on each target, then each target.
    progress = [data for kind, data in events if kind == "sync-progress"]
    assert sorted(p["campaignId"] for p in progress) == sorted(
        c["id"] for c in created["campaigns"]
    )
    for event in progress:
        assert event["status"] == "failed"
        assert {p: t["status"] for p, t in event["targets"].items()} == {
            "reddit": "synced", "google": "failed", "meta": "synced"
        }  # fmt: skip
    kind, complete = events[-1]
    assert kind == "sync-complete" and complete["status"] == "completed_with_errors"
    assert {t["platform"]: t["syncStatus"] for t in complete["targets"]} == {
        "reddit": "synced", "google": "failed", "meta": "synced"
    }  # fmt: skip
    assert job["progress"]["failed"] == 2, job
    targets = {t["platform"]: t for t in job["progress"]["targets"]}
    assert targets["google"]["syncStatus"] == "failed"
    assert "google" in (targets["google"]["syncError"] or ""), targets["google"]
    assert targets["reddit"]["syncStatus"] == "synced"
    assert targets["meta"]["syncStatus"] == "synced"
    now = await counts(rig)
    assert now["reddit"] == expected(2)["reddit"]
    assert now["meta"] == expected(2)["meta"]
    assert now["google"] == {"campaigns": 0, "adGroups": 0, "adGroupAds": 0, "adGroupCriteria": 0}
    await rig.record_history(
        await batch_id(rig, created["id"], 0), "sync_batch_multi_target_platform_down"
    )

    # Google back: the next sync creates only what Google lacks.
    await rig.faults()
    job = await rig.sync(created["id"])
    assert job["status"] == "completed", job
    assert await counts(rig) == expected(2)


async def test_googles_retry_sweep_retries_what_failed_on_google_only(rig: System) -> None:
    """Campaigns that failed on the set's Google target (not its first) are retried by Google's
    own sweep (`sync-retry-sweep-google`): Google gets the whole set, Reddit and Meta are not
    called again."""
    from flightdeck.domain.sync import RetrySweepInput, RetrySweepResult
    from flightdeck.platforms.registry import platform
    from flightdeck.workflows.retry_failed_syncs import RetryFailedSyncsWorkflow
    from tests.e2e.test_sync_retry_sweep import new_run_done

    accounts = await three_accounts(rig)
    created = await make_set(rig, accounts, 2)
    await rig.faults(
        {"platform": "google", "path": "googleAds:mutate", "status": 503, "errorRate": 1.0}
    )
    job = await rig.sync(created["id"])
    assert job["status"] == "completed_with_errors", job
    await rig.faults()
    async with system_session(rig.sessions, "cli") as session, session.begin():
        records = (
            await session.scalars(
                select(SyncRecord).where(
                    SyncRecord.entity_type == "campaign",
                    SyncRecord.entity_id.in_([uuid.UUID(c["id"]) for c in created["campaigns"]]),
                )
            )
        ).all()
        assert {(r.platform, r.sync_status) for r in records} == {
            ("reddit", "synced"), ("google", "failed"), ("meta", "synced")
        }  # fmt: skip
        for record in records:  # as if the backoff's wait had passed
            record.updated_at = datetime.now(UTC) - timedelta(days=1)
    before = len((await rig.sim.get("/_sim/requests")).json())
    asked = datetime.now(UTC)
    settings = rig.settings
    result = await rig.client.execute_workflow(
        RetryFailedSyncsWorkflow.run,
        RetrySweepInput(
            platform="google",
            platform_task_queue=platform("google").task_queue(settings),
            batch_size=settings.sync_batch_size,
            window=settings.sync_window,
            call_max_attempts=settings.sync_call_max_attempts,
            retry_initial_seconds=settings.sync_retry_initial_seconds,
        ),
        id=f"sweep-{uuid.uuid4().hex[:8]}",
        task_queue=settings.task_queue,
        result_type=RetrySweepResult,
    )
    set_id = created["id"]
    assert result.started == [f"sync-set-{set_id}"], result
    await new_run_done(rig, f"sync-set-{set_id}", asked)
    assert await counts(rig) == expected(2)
    later = (await rig.sim.get("/_sim/requests")).json()[before:]
    assert {entry["platform"] for entry in later} == {"google"}, later
    mapped = await mapping(rig, set_id)
    assert len(set(mapped["google"]["ad"].values())) == 8


async def test_targets_must_be_the_tenants_accounts_of_their_platform(rig: System) -> None:
    accounts = await three_accounts(rig)
    mismatched = {
        "name": "bad",
        "targets": [
            {"platform": "reddit", "adAccountId": accounts["reddit"]},
            {"platform": "google", "adAccountId": accounts["meta"]},
        ],
    }
    response = await rig.api.post(SETS, json=mismatched, headers=rig.headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "targets.1.adAccountId"

    other = await rig.new_tenant_headers()
    foreign = {
        "name": "foreign",
        "targets": [{"platform": "reddit", "adAccountId": accounts["reddit"]}],
    }
    response = await rig.api.post(SETS, json=foreign, headers=other)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "targets.0.adAccountId"

    twice = {
        "name": "twice",
        "targets": [
            {"platform": "reddit", "adAccountId": accounts["reddit"]},
            {"platform": "reddit", "adAccountId": accounts["reddit"]},
        ],
    }
    response = await rig.api.post(SETS, json=twice, headers=rig.headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "targets.1.platform"


async def test_sync_back_reads_each_target_through_its_own_mapping(rig: System) -> None:
    """Reddit first, Google second: an edit in the Google Ads UI comes back through Google's
    mapping (its sync records, not the entity's Reddit ids); a change on both sides opens a
    conflict naming Google, and `use_local` pushes to Google's object. Each target's campaign
    is in the metrics registry."""
    accounts = await three_accounts(rig)
    del accounts["meta"]
    created = await make_set(rig, accounts, 1)
    job = await rig.sync(created["id"])
    assert job["status"] == "completed", job
    mapped = await mapping(rig, created["id"])
    ours = created["campaigns"][0]
    group = ours["adGroups"][0]
    google_group = mapped["google"]["ad_group"][uuid.UUID(group["id"])]

    unchanged = await google_sync_back(rig)
    assert (unchanged["rows_changed"], unchanged["conflicts_opened"]) == (0, 0), unchanged
    await ui_edit(rig, google_group, name="Shoes (Google UI)")
    result = await google_sync_back(rig)
    assert (result["rows_changed"], result["conflicts_opened"]) == (1, 0), result
    got = (await rig.api.get(f"/api/v1/ad-groups/{group['id']}", headers=rig.headers)).json()
    assert got["name"] == "Shoes (Google UI)"
    assert got["platformAdGroupId"] == mapped["reddit"]["ad_group"][uuid.UUID(group["id"])]

    # Both sides: the campaign's budget 55 here, 70 in the Google Ads UI.
    changed = await rig.api.patch(
        f"/api/v1/campaigns/{ours['id']}",
        json={"budget": {"type": "daily", "amount": 55, "currency": "USD"}},
        headers=rig.headers,
    )
    assert changed.status_code == 200, changed.text
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]["google"]
    google_campaign = mapped["google"]["campaign"][uuid.UUID(ours["id"])]
    [remote] = [c for c in state["campaigns"]["items"] if c["resourceName"] == google_campaign]
    await ui_edit(rig, remote["campaignBudget"], amountMicros="70000000")
    result = await google_sync_back(rig)
    assert result["conflicts_opened"] == 1, result
    [conflict] = await open_conflicts(rig)
    assert (conflict["platform"], conflict["platformId"]) == ("google", google_campaign)
    done = await resolve(rig, conflict, "use_local")
    assert done["status"] == "completed", done
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]["google"]
    [budget] = [
        b
        for b in state["campaignBudgets"]["items"]
        if b["resourceName"] == remote["campaignBudget"]
    ]
    assert budget["amountMicros"] == "55000000"

    async with system_session(rig.sessions, "cli") as session:
        await PlatformCampaignRepository(session).register_published(None)
        registered = (
            await session.execute(
                select(PlatformCampaign.platform, PlatformCampaign.platform_campaign_id).where(
                    PlatformCampaign.generated_campaign_id == uuid.UUID(ours["id"])
                )
            )
        ).all()
        await session.commit()
    assert sorted(registered) == sorted(
        [
            ("google", google_campaign),
            ("reddit", mapped["reddit"]["campaign"][uuid.UUID(ours["id"])]),
        ]
    )


async def test_pause_reaches_targets_where_the_first_has_nothing(rig: System) -> None:
    """Reddit (the first target, mirrored on the entities) refuses every campaign create: the
    campaigns exist on Google and Meta only, and a pause still reaches them there."""
    accounts = await three_accounts(rig)
    created = await make_set(rig, accounts, 2)
    await rig.faults(
        {
            "platform": "reddit",
            "method": "POST",
            "path": "/campaigns$",
            "errorRate": 1.0,
            "status": 503,
        }  # fmt: skip
    )
    job = await rig.sync(created["id"])
    assert job["status"] == "completed_with_errors", job
    now = await counts(rig)
    assert now["reddit"] == {"campaigns": 0, "ad_groups": 0, "ads": 0}
    assert now["google"] == expected(2)["google"] and now["meta"] == expected(2)["meta"]
    got = (await rig.api.get(f"{SETS}/{created['id']}", headers=rig.headers)).json()
    assert {c["platformCampaignId"] for c in got["campaigns"]} == {None}

    paused = await rig.sync(created["id"], "pause")
    assert paused["status"] == "completed", paused
    assert paused["progress"]["total"] == 2, paused
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]
    assert {c["status"] for c in state["google"]["campaigns"]["items"]} == {"PAUSED"}
    assert {c["status"] for c in state["facebook"]["campaigns"]["items"]} == {"PAUSED"}


async def test_a_target_is_added_later_and_kept_while_it_has_campaigns(rig: System) -> None:
    accounts = await three_accounts(rig)
    reddit_only = {"reddit": accounts["reddit"]}
    created = await make_set(rig, reddit_only, 1)
    url = f"{SETS}/{created['id']}"
    both = [
        {"platform": "reddit", "adAccountId": accounts["reddit"]},
        {"platform": "google", "adAccountId": accounts["google"]},
    ]
    patched = await rig.api.patch(url, json={"targets": both}, headers=rig.headers)
    assert patched.status_code == 200, patched.text
    assert [(t["platform"], t["adAccountId"]) for t in patched.json()["targets"]] == [
        ("reddit", accounts["reddit"]),
        ("google", accounts["google"]),
    ]
    job = await rig.sync(created["id"])
    assert job["status"] == "completed", job
    now = await counts(rig)
    assert now["reddit"] == expected(1)["reddit"] and now["google"] == expected(1)["google"]

    gone = await rig.api.patch(url, json={"targets": both[:1]}, headers=rig.headers)
    assert gone.status_code == 409, gone.text
    assert "google" in gone.json()["detail"]
    first = await rig.api.patch(url, json={"targets": both[1:]}, headers=rig.headers)
    assert first.status_code == 422, first.text
    assert first.json()["detail"][0]["field"] == "targets.0.platform"
    wrong = [*both, {"platform": "meta", "adAccountId": accounts["google"]}]
    refused = await rig.api.patch(url, json={"targets": wrong}, headers=rig.headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["field"] == "targets.2.adAccountId"
    got = (await rig.api.get(url, headers=rig.headers)).json()
    assert [t["platform"] for t in got["targets"]] == ["reddit", "google"]
