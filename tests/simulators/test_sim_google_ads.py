"""The Google Ads simulator over real HTTP (google-ads-api.md §6): access through a manager,
atomic googleAds:mutate with temporary ids, all-or-nothing and partialFailure, validateOnly,
updateMask, immutable fields, REMOVED as terminal, GAQL with fixed pages, change_event with
outside edits, quotas, injected faults, reset."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flightdeck.simulators.google_ads_state import OWNER_USER
from tests.simulators.google_ads_support import (
    BASE,
    CID,
    MANAGER,
    GoogleSim,
    errors_of,
    rsa,
    tree_copy,
)


@pytest.fixture
async def google(simulator_url: str) -> AsyncIterator[GoogleSim]:
    async with httpx.AsyncClient(base_url=simulator_url, timeout=30) as http:
        sim = GoogleSim(http)
        await sim.setup()
        yield sim
        await http.post("/_sim/faults", json={"rules": []})


async def create_tree(google: GoogleSim, name: str = "Campaign A") -> list[str]:
    response = await google.ads_mutate(tree_copy(name))
    assert response.status_code == 200, response.text
    return [
        next(iter(r.values()))["resourceName"] for r in response.json()["mutateOperationResponses"]
    ]


async def test_access_needs_the_manager_in_login_customer_id(google: GoogleSim) -> None:
    listed = await google.http.get(
        "/google/v25/customers:listAccessibleCustomers", headers=google.headers
    )
    assert listed.json() == {"resourceNames": [f"customers/{MANAGER}"]}
    assert listed.headers["request-id"]

    without = dict(google.headers)
    del without["login-customer-id"]
    google.headers = without
    refused = await google.search("SELECT campaign.id FROM campaign")
    assert refused.status_code == 403
    assert errors_of(refused)[0]["errorCode"] == {"authorizationError": "USER_PERMISSION_DENIED"}

    google.headers = {**without, "login-customer-id": "111-111-1111"}
    assert (await google.search("SELECT campaign.id FROM campaign")).status_code == 400

    await google.setup(email=OWNER_USER, login=None)  # the owner reaches the client directly
    assert (await google.search("SELECT campaign.id FROM campaign")).status_code == 200
    clients = await google.rows("SELECT customer.id, customer.currency_code FROM customer")
    assert clients[0]["customer"] == {
        "resourceName": f"customers/{CID}",
        "id": CID,
        "currencyCode": "USD",
    }


async def test_manager_lists_its_clients(google: GoogleSim) -> None:
    rows = await google.post(
        "googleAds:search",
        {
            "query": (
                "SELECT customer_client.id, customer_client.manager, customer_client.level "
                "FROM customer_client WHERE customer_client.level = 1"
            )
        },
        cid=MANAGER,
    )
    assert rows.status_code == 200, rows.text
    assert [r["customerClient"]["id"] for r in rows.json()["results"]] == [CID]
    assert rows.json()["results"][0]["customerClient"]["level"] == "1"


async def test_atomic_tree_with_temporary_ids(google: GoogleSim) -> None:
    names = await create_tree(google)
    assert names[0].startswith(f"{BASE}/campaignBudgets/") and "-" not in names[0]
    campaign, group = names[1], names[2]
    assert names[3].startswith(f"{BASE}/adGroupAds/{group.rsplit('/', 1)[1]}~")
    assert await google.counts() == {
        "campaignBudgets": 1,
        "campaigns": 1,
        "adGroups": 1,
        "adGroupAds": 1,
        "adGroupCriteria": 2,
        "labels": 0,
        "adGroupAdLabels": 0,
        "changeEvents": 6,
    }

    rows = await google.rows(
        "SELECT campaign.id, campaign.name, campaign.status, campaign_budget.amount_micros, "
        "campaign.network_settings.target_google_search, campaign.bidding_strategy_type "
        "FROM campaign WHERE campaign.status != 'REMOVED'"
    )
    assert rows == [
        {
            "campaign": {
                "resourceName": campaign,
                "id": campaign.rsplit("/", 1)[1],
                "name": "Campaign A",
                "status": "PAUSED",
                "networkSettings": {"targetGoogleSearch": True},
                "biddingStrategyType": "MANUAL_CPC",
            },
            "campaignBudget": {"resourceName": names[0], "amountMicros": "5000000"},
        }
    ]
    keywords = await google.rows(
        "SELECT ad_group_criterion.keyword.text, ad_group_criterion.negative FROM "
        f"ad_group_criterion WHERE campaign.id = {campaign.rsplit('/', 1)[1]} "
        "ORDER BY ad_group_criterion.keyword.text DESC"
    )
    assert [
        (k["adGroupCriterion"]["keyword"]["text"], k["adGroupCriterion"]["negative"])
        for k in keywords
    ] == [("running shoes", False), ("free", True)]


async def test_a_failing_operation_creates_nothing(google: GoogleSim) -> None:
    tree = tree_copy()
    tree[3]["adGroupAdOperation"]["create"]["ad"] = rsa(headlines=2)
    response = await google.ads_mutate(tree)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    [error] = errors_of(response)
    assert error["errorCode"] == {"collectionSizeError": "TOO_FEW"}
    path = error["location"]["fieldPathElements"]
    assert path[0] == {"fieldName": "mutate_operations", "index": 3}
    assert [p["fieldName"] for p in path[1:]] == [
        "ad_group_ad_operation",
        "create",
        "ad",
        "responsive_search_ad",
        "headlines",
    ]
    assert sum((await google.counts()).values()) == 0, "nothing of the tree was kept"


async def test_temporary_ids_must_be_created_first(google: GoogleSim) -> None:
    tree = tree_copy()
    response = await google.ads_mutate([tree[1], tree[0]])
    assert response.status_code == 400
    assert errors_of(response)[0]["errorCode"] == {"mutateError": "RESOURCE_NOT_FOUND"}


async def test_partial_failure_keeps_the_valid_operations(google: GoogleSim) -> None:
    ops = [
        {"create": {"name": f"Budget {n}", "amountMicros": amount}}
        for n, amount in enumerate(["1000000", "1234567", "2000000"])
    ]
    response = await google.mutate("campaignBudgets", ops, partialFailure=True)
    assert response.status_code == 200
    body = response.json()
    assert [bool(r) for r in body["results"]] == [True, False, True]
    failure = body["partialFailureError"]
    assert failure["code"] == 3 and failure["message"].startswith("Multiple errors in 'details'")
    [error] = failure["details"][0]["errors"]
    assert error["errorCode"] == {"campaignBudgetError": "NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT"}
    assert error["location"]["fieldPathElements"][0] == {"fieldName": "operations", "index": 1}
    assert (await google.counts())["campaignBudgets"] == 2

    atomic = await google.mutate(
        "campaignBudgets",
        [
            {"create": {"name": "Budget X", "amountMicros": "1000000"}},
            {"create": {"name": "Budget 0", "amountMicros": "1000000"}},
        ],
    )
    assert atomic.status_code == 400
    assert errors_of(atomic)[0]["errorCode"] == {"campaignBudgetError": "DUPLICATE_NAME"}
    assert (await google.counts())["campaignBudgets"] == 2


async def test_validate_only_keeps_nothing(google: GoogleSim) -> None:
    response = await google.ads_mutate(tree_copy(), validateOnly=True)
    assert response.status_code == 200 and response.json() == {}
    assert sum((await google.counts()).values()) == 0


async def test_campaign_rules(google: GoogleSim) -> None:
    await create_tree(google)
    duplicate = await google.ads_mutate(tree_copy("Campaign A"))
    assert errors_of(duplicate)[0]["errorCode"] == {"campaignError": "DUPLICATE_CAMPAIGN_NAME"}
    assert errors_of(duplicate)[0]["trigger"] == {"stringValue": "Campaign A"}

    tree = tree_copy("Campaign B")
    del tree[1]["campaignOperation"]["create"]["containsEuPoliticalAdvertising"]
    missing = await google.ads_mutate(tree)
    error, *dependents = errors_of(missing)  # the ops using the campaign's temporary id fail too
    assert {d["errorCode"]["mutateError"] for d in dependents} == {"RESOURCE_NOT_FOUND"}
    assert error["errorCode"] == {"fieldError": "REQUIRED"}
    assert error["location"]["fieldPathElements"][-1] == {
        "fieldName": "contains_eu_political_advertising"
    }

    tree = tree_copy("Campaign C")
    tree[1]["campaignOperation"]["create"]["campaignBudget"] = f"{BASE}/campaignBudgets/-9"
    assert (await google.ads_mutate(tree)).status_code == 400

    typo = tree_copy("Campaign D")
    typo[1]["campaignOperation"]["create"]["advertisingChanelType"] = "SEARCH"
    assert errors_of(await google.ads_mutate(typo))[0]["errorCode"] == {
        "requestError": "INVALID_INPUT"
    }


async def test_update_mask_and_immutable_fields(google: GoogleSim) -> None:
    names = await create_tree(google)
    campaign, ad_group_ad, keyword = names[1], names[3], names[4]
    response = await google.mutate(
        "campaigns",
        [
            {
                "update": {"resourceName": campaign, "status": "ENABLED", "name": "ignored"},
                "updateMask": "status",
            }
        ],
        responseContentType="MUTABLE_RESOURCE",
    )
    assert response.status_code == 200, response.text
    changed = response.json()["results"][0]["campaign"]
    assert (changed["status"], changed["name"]) == ("ENABLED", "Campaign A")

    no_mask = await google.mutate("campaigns", [{"update": {"resourceName": campaign}}])
    assert errors_of(no_mask)[0]["errorCode"] == {"fieldMaskError": "FIELD_MASK_MISSING"}

    keyword_text = await google.mutate(
        "adGroupCriteria",
        [
            {
                "update": {"resourceName": keyword, "keyword": {"text": "new"}},
                "updateMask": "keyword.text",
            }
        ],
    )
    assert errors_of(keyword_text)[0]["errorCode"] == {"fieldError": "IMMUTABLE_FIELD"}
    ad_copy = await google.mutate(
        "adGroupAds",
        [{"update": {"resourceName": ad_group_ad, "ad": rsa(headlines=4)}, "updateMask": "ad"}],
    )
    assert errors_of(ad_copy)[0]["errorCode"] == {"fieldError": "IMMUTABLE_FIELD"}

    # The copy itself changes through ads:mutate.
    ad_name = (await google.rows("SELECT ad_group_ad.ad.resource_name FROM ad_group_ad"))[0][
        "adGroupAd"
    ]["ad"]["resourceName"]
    new_copy = rsa(headlines=4)["responsiveSearchAd"]
    edited = await google.mutate(
        "ads",
        [
            {
                "update": {"resourceName": ad_name, "responsiveSearchAd": new_copy},
                "updateMask": "responsiveSearchAd.headlines",
            }
        ],
    )
    assert edited.status_code == 200, edited.text
    rows = await google.rows(
        "SELECT ad_group_ad.ad.responsive_search_ad.headlines FROM ad_group_ad"
    )
    assert len(rows[0]["adGroupAd"]["ad"]["responsiveSearchAd"]["headlines"]) == 4


async def test_removed_is_terminal_and_still_listed(google: GoogleSim) -> None:
    names = await create_tree(google)
    keyword = names[4]
    removed = await google.mutate("adGroupCriteria", [{"remove": keyword}])
    assert removed.json() == {"results": [{"resourceName": keyword}]}
    again = await google.mutate(
        "adGroupCriteria",
        [{"update": {"resourceName": keyword, "status": "PAUSED"}, "updateMask": "status"}],
    )
    assert errors_of(again)[0]["errorCode"] == {
        "operationAccessDeniedError": "OPERATION_NOT_PERMITTED_FOR_REMOVED_RESOURCE"
    }
    all_rows = await google.rows("SELECT ad_group_criterion.status FROM ad_group_criterion")
    live = await google.rows(
        "SELECT ad_group_criterion.status FROM ad_group_criterion "
        "WHERE ad_group_criterion.status != 'REMOVED'"
    )
    assert (len(all_rows), len(live)) == (2, 1)

    twice = await google.mutate("campaigns", [{"remove": names[1]}, {"remove": names[1]}])
    assert errors_of(twice)[0]["errorCode"] == {"mutateError": "ID_EXISTS_IN_MULTIPLE_MUTATES"}
    create_removed = await google.mutate("labels", [{"create": {"name": "x", "status": "REMOVED"}}])
    assert create_removed.status_code == 400


async def test_gaql_paging_and_errors(google: GoogleSim) -> None:
    await google.mutate("labels", [{"create": {"name": f"label-{n:02}"}} for n in range(5)])
    assert (await google.search("SELECT label.name FROM label", pageSize=2)).json()["error"][
        "details"
    ][0]["errors"][0]["errorCode"] == {"requestError": "PAGE_SIZE_NOT_SUPPORTED"}
    await google.http.post("/_sim/google/quotas", json={"pageSize": 2})
    query = "SELECT label.name FROM label ORDER BY label.name"
    seen, token = [], None
    while True:
        body = (await google.search(query, **({"pageToken": token} if token else {}))).json()
        seen += [r["label"]["name"] for r in body["results"]]
        token = body.get("nextPageToken")
        if token is None:
            break
    assert seen == [f"label-{n:02}" for n in range(5)]
    stream = await google.post("googleAds:searchStream", {"query": query})
    assert isinstance(stream.json(), list) and len(stream.json()) == 3  # batches of 2
    await google.http.post("/_sim/google/quotas", json={})  # back to 10,000
    bad_token = await google.search(query, pageToken="bm9wZQ==")
    assert errors_of(bad_token)[0]["errorCode"] == {"requestError": "INVALID_PAGE_TOKEN"}
    limited = await google.rows(
        "SELECT label.name FROM label WHERE label.name IN ('label-01', 'label-03', 'x') "
        "ORDER BY label.name DESC LIMIT 1"
    )
    assert [r["label"]["name"] for r in limited] == ["label-03"]
    like = await google.rows("SELECT label.name FROM label WHERE label.name LIKE 'label-0%'")
    assert len(like) == 5
    unknown = await google.search("SELECT campaign.nope FROM campaign")
    assert errors_of(unknown)[0]["errorCode"] == {"queryError": "UNRECOGNIZED_FIELD"}
    stream_error = await google.post("googleAds:searchStream", {"query": "SELECT FROM x"})
    assert stream_error.status_code == 400 and isinstance(stream_error.json(), list)


def _window(days_back: int = 1) -> str:
    start = (datetime.now(UTC) - timedelta(days=days_back)).strftime("%Y-%m-%d %H:%M:%S")
    end = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    return f"change_event.change_date_time BETWEEN '{start}' AND '{end}'"


async def test_change_events_tell_outside_edits_from_ours(google: GoogleSim) -> None:
    names = await create_tree(google)
    ui = await google.http.post(
        "/_sim/google/ui-edit",
        json={"resourceName": names[1], "fields": {"name": "Renamed in the UI"}},
    )
    assert ui.status_code == 200, ui.text
    query = (
        "SELECT change_event.change_resource_name, change_event.client_type, "
        "change_event.user_email, change_event.changed_fields, "
        "change_event.resource_change_operation, change_event.old_resource, "
        f"change_event.new_resource FROM change_event WHERE {_window()} "
        "AND change_event.change_resource_type = 'CAMPAIGN' "
        "ORDER BY change_event.change_date_time LIMIT 100"
    )
    events = [r["changeEvent"] for r in await google.rows(query)]
    assert [(e["clientType"], e["resourceChangeOperation"]) for e in events] == [
        ("GOOGLE_ADS_API", "CREATE"),
        ("GOOGLE_ADS_WEB_CLIENT", "UPDATE"),
    ]
    outside = events[1]
    assert outside["changedFields"] == "name"
    assert outside["oldResource"] == {"campaign": {"name": "Campaign A"}}
    assert outside["newResource"] == {"campaign": {"name": "Renamed in the UI"}}
    assert outside["userEmail"] != events[0]["userEmail"]

    no_limit = await google.search(
        f"SELECT change_event.client_type FROM change_event WHERE {_window()}"
    )
    assert errors_of(no_limit)[0]["errorCode"] == {"changeEventError": "LIMIT_NOT_SPECIFIED"}
    open_range = await google.search("SELECT change_event.client_type FROM change_event LIMIT 5")
    assert errors_of(open_range)[0]["errorCode"] == {
        "changeEventError": "CHANGE_DATE_RANGE_INFINITE"
    }
    too_old = await google.search(
        f"SELECT change_event.client_type FROM change_event WHERE {_window(40)} LIMIT 5"
    )
    assert errors_of(too_old)[0]["errorCode"] == {"changeEventError": "START_DATE_TOO_OLD"}


async def test_rate_limit_and_daily_cap(google: GoogleSim) -> None:
    await google.http.post("/_sim/google/quotas", json={"operationsPerMinute": 3})
    labels = [{"create": {"name": f"l{n}"}} for n in range(3)]
    assert (await google.mutate("labels", labels)).status_code == 200
    limited = await google.search("SELECT label.name FROM label")
    assert limited.status_code == 429
    assert limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    [error] = errors_of(limited)
    assert error["errorCode"] == {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"}
    assert error["details"]["quotaErrorDetails"]["rateScope"] == "ACCOUNT"
    assert error["details"]["quotaErrorDetails"]["retryDelay"].endswith("s")

    await google.setup(access_level="EXPLORER")  # 2,880 operations a day
    many = [{"create": {"name": f"label {n}"}} for n in range(2_000)]
    assert (await google.mutate("labels", many, validateOnly=True)).status_code == 200
    over = await google.mutate("labels", many[:900], validateOnly=True)
    assert over.status_code == 429
    assert errors_of(over)[0]["errorCode"] == {"quotaError": "RESOURCE_EXHAUSTED"}
    usage = (await google.http.get("/_sim/google/quotas")).json()["dailyOperations"]
    assert list(usage.values()) == [2_000]


async def test_oauth_code_flow_refresh_and_revocation(google: GoogleSim) -> None:
    from tests.simulators.google_ads_support import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI

    consent = await google.http.get(
        "/google/o/oauth2/v2/auth",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "https://www.googleapis.com/auth/adwords",
            "state": "s1",
            "access_type": "offline",
            "prompt": "consent",
        },
    )
    assert consent.status_code == 302
    code = httpx.URL(consent.headers["location"]).params["code"]
    form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    tokens = (
        await google.http.post(
            "/google/oauth2/v3/token",
            data={
                **form,
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
            },
        )
    ).json()
    assert tokens["refresh_token"] and tokens["expires_in"] == 3599
    replay = await google.http.post(
        "/google/oauth2/v3/token",
        data={
            **form,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert replay.json()["error"] == "invalid_grant"

    await google.http.post("/_sim/google/oauth/expire", json={})
    expired = await google.search("SELECT label.name FROM label")
    assert expired.status_code == 401
    assert errors_of(expired)[0]["errorCode"] == {"authenticationError": "OAUTH_TOKEN_EXPIRED"}
    refreshed = (
        await google.http.post(
            "/google/oauth2/v3/token",
            data={**form, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        )
    ).json()
    assert "refresh_token" not in refreshed, "Google does not rotate refresh tokens"
    await google.http.post("/_sim/google/oauth/revoke", json={})
    dead = await google.http.post(
        "/google/oauth2/v3/token",
        data={**form, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert (dead.status_code, dead.json()["error"]) == (400, "invalid_grant")
    bad_client = await google.http.post(
        "/google/oauth2/v3/token",
        data={"client_id": CLIENT_ID, "client_secret": "wrong", "grant_type": "refresh_token"},
    )
    assert bad_client.status_code == 401


async def test_faults_and_lost_responses(google: GoogleSim) -> None:
    rules: dict[str, Any] = {
        "seed": 1,
        "rules": [
            {
                "platform": "google",
                "path": "labels:mutate",
                "errorRate": 1.0,
                "status": 429,
                "retryAfterSeconds": 7,
                "remaining": 1,
            },
            {
                "platform": "google",
                "path": "campaignBudgets:mutate",
                "lostResponseRate": 1.0,
                "remaining": 1,
            },
        ],
    }
    await google.http.post("/_sim/faults", json=rules)
    throttled = await google.mutate("labels", [{"create": {"name": "a"}}])
    assert throttled.status_code == 429
    assert errors_of(throttled)[0]["details"]["quotaErrorDetails"]["retryDelay"] == "7s"
    lost = await google.mutate(
        "campaignBudgets", [{"create": {"name": "b", "amountMicros": "1000000"}}]
    )
    assert lost.status_code == 502
    assert (await google.counts())["campaignBudgets"] == 1, "committed before the answer was lost"

    await google.http.post("/_sim/reset")
    assert sum((await google.counts()).values()) == 0


async def test_state_survives_a_restart_and_reset_empties_it(tmp_path: Path) -> None:
    from flightdeck.simulators.app import create_simulator_app
    from flightdeck.simulators.google_ads_state import GoogleApp
    from tests.simulators.google_ads_support import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI
    from tests.simulators.test_sim_persistence import running

    path = tmp_path / "simulators.state"
    configured = GoogleApp(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)

    def app() -> FastAPI:
        return create_simulator_app(state_path=path, google_apps=[configured])

    async with running(app()) as http:
        google = GoogleSim(http)
        await google.setup()
        await create_tree(google)
    async with running(app()) as http:
        google.http = http
        assert (await google.counts())["campaigns"] == 1
        rows = await google.rows("SELECT campaign.name FROM campaign")  # the token lived on too
        assert rows[0]["campaign"]["name"] == "Campaign A"
        await http.post("/_sim/reset")
        assert sum((await google.counts()).values()) == 0
        oauth = (await http.get("/_sim/google/oauth")).json()
        assert [a["clientId"] for a in oauth["apps"]] == [CLIENT_ID], "configured app stays"
