"""The Google Ads client against the simulator over real HTTP: mutates (atomic, partial
failure, validateOnly), GAQL paging, one refresh on 401, the OAuth code flow, a shared httpx
client, and the classification of Google's errors into retryable / not applied / ambiguous.

Every request the client sends in these tests is recorded and checked against the documented
resource fields (`simulators/google_ads_spec.py`, transcribed from the v25 protos): known
lowerCamelCase names, int64 as strings, no output-only fields, update masks naming mutable
fields only."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from flightdeck.platforms.errors import (
    AuthExpiredError,
    NonRetryableError,
    RateLimitedError,
    RefreshTokenInvalid,
    RetryableError,
)
from flightdeck.platforms.google_ads import GoogleAdsClient, GoogleOAuthClient
from flightdeck.platforms.google_ads_errors import DailyQuotaExhausted, error_codes, is_ambiguous
from flightdeck.platforms.reddit_oauth import code_challenge, new_code_verifier
from flightdeck.simulators.google_ads_mutate import BY_OPERATION_KEY, KINDS
from flightdeck.simulators.google_ads_spec import IMM, OUT, check_resource, field_spec
from flightdeck.simulators.google_ads_state import OWNER_USER
from tests.simulators.google_ads_support import (
    CID,
    CLIENT_ID,
    CLIENT_SECRET,
    MANAGER,
    REDIRECT_URI,
    GoogleSim,
    tree_copy,
)


class Recorder(httpx.AsyncBaseTransport):
    """Real HTTP, with every request kept for the contract check."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def contract_problems(request: httpx.Request) -> list[str]:
    """What in a request breaks the documented contract (empty when it is valid)."""
    path = request.url.path
    problems: list[str] = []
    if "/v25/" not in path:
        problems.append(f"{path}: not API v25")
    if request.method == "GET":
        return problems
    body = json.loads(request.content)
    method = path.rsplit(":", 1)[-1]
    collection = path.rsplit("/", 1)[-1].split(":")[0]
    if method in ("search", "searchStream"):
        extra = set(body) - {"query", "pageToken"}
        return problems + ([f"{path}: unexpected {sorted(extra)}"] if extra else [])
    if collection == "googleAds":
        operations = []
        for item in body.pop("mutateOperations"):
            [(key, op)] = item.items()
            operations.append((BY_OPERATION_KEY[key], op))
    else:
        operations = [(KINDS[collection], op) for op in body.pop("operations")]
    extra = set(body) - {"partialFailure", "validateOnly", "responseContentType"}
    problems += [f"{path}: unexpected {sorted(extra)}"] if extra else []
    for index, (kind, op) in enumerate(operations):
        verbs = set(op) & {"create", "update", "remove"}
        if len(verbs) != 1 or set(op) - {"create", "update", "remove", "updateMask"}:
            problems.append(f"operation {index}: {sorted(op)}")
            continue
        if "create" in op:
            found = check_resource(kind.resource, op["create"], creating=True)
            problems += [f"operation {index}: {p}" for p in found]
        elif "update" in op:
            found = check_resource(kind.resource, op["update"], creating=True)
            problems += [f"operation {index}: {p}" for p in found if p[1] != "fieldError"]
            for mask_path in str(op.get("updateMask", "")).split(","):
                spec = field_spec(kind.resource, mask_path.split("."))
                if spec is None or spec.behavior in (IMM, OUT):
                    problems.append(f"operation {index}: mask {mask_path!r}")
    return problems


class Tokens:
    """A token provider backed by the simulator's admin surface; counts refreshes."""

    def __init__(self, http: httpx.AsyncClient, email: str) -> None:
        self.http = http
        self.email = email
        self.token = ""
        self.refreshes = 0

    async def __call__(self, *, force_refresh: bool = False) -> str:
        if force_refresh or not self.token:
            self.refreshes += force_refresh
            answer = await self.http.post(
                "/_sim/google/oauth/tokens", json={"clientId": CLIENT_ID, "email": self.email}
            )
            self.token = answer.json()["access_token"]
        return self.token


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
    assert problems == [], "every request the client sent follows the documented fields"
    assert recording.requests, "the test sent something"


@pytest.fixture
async def client(
    sim: GoogleSim, simulator_url: str, recorder: Recorder
) -> AsyncIterator[tuple[GoogleAdsClient, Tokens]]:
    tokens = Tokens(sim.http, "flightdeck.test@example.com")
    async with GoogleAdsClient(f"{simulator_url}/google", token_provider=tokens,
                               login_customer_id=MANAGER, transport=recorder) as ads:  # fmt: skip
        yield ads, tokens


async def test_tree_in_one_atomic_mutate_and_read_back(
    client: tuple[GoogleAdsClient, Tokens],
) -> None:
    ads, _ = client
    answer = await ads.mutate_all(CID, tree_copy())
    names = answer.resource_names()
    assert len(names) == 6 and all(name and "/-" not in name for name in names)
    assert answer.errors == []
    rows = await ads.search(CID, "SELECT ad_group_criterion.keyword.text FROM ad_group_criterion")
    assert sorted(r["adGroupCriterion"]["keyword"]["text"] for r in rows) == [
        "free", "running shoes"]  # fmt: skip
    streamed = await ads.search_stream(CID, "SELECT campaign.name FROM campaign")
    assert [r["campaign"]["name"] for r in streamed] == ["Campaign A"]

    updated = await ads.mutate(CID, "campaigns", [{
        "update": {"resourceName": names[1], "status": "ENABLED"}, "updateMask": "status"}],
        mutable_resource=True)  # fmt: skip
    assert updated.results[0] is not None
    assert updated.results[0]["campaign"]["status"] == "ENABLED"
    dry = await ads.mutate_all(CID, tree_copy("Campaign B"), validate_only=True)
    assert dry.results == [None] * 6
    assert len(await ads.search(CID, "SELECT campaign.id FROM campaign")) == 1


async def test_pages_are_followed_to_the_end(
    client: tuple[GoogleAdsClient, Tokens], sim: GoogleSim
) -> None:
    ads, _ = client
    await ads.mutate(CID, "labels", [{"create": {"name": f"l{n:02}"}} for n in range(7)])
    await sim.http.post("/_sim/google/quotas", json={"pageSize": 3})
    pages = [page async for page in ads.search_pages(CID, "SELECT label.name FROM label")]
    assert [len(p) for p in pages] == [3, 3, 1]


async def test_partial_failure_reports_the_failed_operations(
    client: tuple[GoogleAdsClient, Tokens],
) -> None:
    ads, _ = client
    answer = await ads.mutate(CID, "campaignBudgets", [
        {"create": {"name": "ok", "amountMicros": "1000000"}},
        {"create": {"name": "odd", "amountMicros": "1000001"}}], partial_failure=True)  # fmt: skip
    assert answer.results[0] is not None and answer.results[1] is None
    [error] = answer.errors
    assert (error["operation"], error["code"]) == (
        1,
        "campaignBudgetError.NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT",
    )


async def test_errors_are_classified(
    client: tuple[GoogleAdsClient, Tokens], sim: GoogleSim
) -> None:
    ads, _ = client
    await ads.mutate_all(CID, tree_copy())
    with pytest.raises(NonRetryableError) as duplicate:
        await ads.mutate_all(CID, tree_copy())
    assert "campaignError.DUPLICATE_CAMPAIGN_NAME" in error_codes(duplicate.value)
    assert not is_ambiguous(duplicate.value)
    assert duplicate.value.details["errors"][0]["location"].startswith("mutate_operations[1]")

    async def fault(status: int, **rule: Any) -> None:
        await sim.http.post("/_sim/faults", json={"rules": [{
            "platform": "google", "path": "labels:mutate", "errorRate": 1.0, "status": status,
            "remaining": 1, **rule}]})  # fmt: skip

    label = [{"create": {"name": "x"}}]
    await fault(429, retryAfterSeconds=7)
    with pytest.raises(RateLimitedError) as throttled:
        await ads.mutate(CID, "labels", label)
    assert throttled.value.retry_after == 7.0 and not is_ambiguous(throttled.value)

    for status, ambiguous in ((500, True), (503, True), (504, True), (409, False)):
        await fault(status)
        with pytest.raises(RetryableError) as failed:
            await ads.mutate(CID, "labels", label)
        assert is_ambiguous(failed.value) is ambiguous, status

    await sim.http.post("/_sim/faults", json={"rules": [{
        "platform": "google", "path": "labels:mutate", "lostResponseRate": 1.0,
        "remaining": 1}]})  # fmt: skip
    with pytest.raises(RetryableError) as lost:
        await ads.mutate(CID, "labels", [{"create": {"name": "committed"}}])
    assert is_ambiguous(lost.value)
    rows = await ads.search(CID, "SELECT label.name FROM label WHERE label.name = 'committed'")
    assert len(rows) == 1, "ambiguous indeed: the create was applied"


async def test_permission_and_daily_cap(
    sim: GoogleSim, simulator_url: str, recorder: Recorder
) -> None:
    tokens = Tokens(sim.http, "flightdeck.test@example.com")
    async with GoogleAdsClient(f"{simulator_url}/google", token_provider=tokens,
                               transport=recorder) as no_manager:  # fmt: skip
        with pytest.raises(NonRetryableError) as denied:
            await no_manager.search(CID, "SELECT campaign.id FROM campaign")
        assert error_codes(denied.value) == {"authorizationError.USER_PERMISSION_DENIED"}

    await sim.setup(access_level="EXPLORER")
    async with GoogleAdsClient(f"{simulator_url}/google", token_provider=tokens,
                               login_customer_id=MANAGER, transport=recorder) as ads:  # fmt: skip
        many = [{"create": {"name": f"n{n}"}} for n in range(2_880)]
        await ads.mutate(CID, "labels", many, validate_only=True)
        with pytest.raises(DailyQuotaExhausted) as capped:
            await ads.search(CID, "SELECT label.id FROM label")
        assert capped.value.retry_after and capped.value.retry_after >= 3600


async def test_a_401_refreshes_once(
    client: tuple[GoogleAdsClient, Tokens], sim: GoogleSim, simulator_url: str
) -> None:
    ads, tokens = client
    await ads.search(CID, "SELECT campaign.id FROM campaign")
    await sim.http.post("/_sim/google/oauth/expire", json={})
    await ads.search(CID, "SELECT campaign.id FROM campaign")
    assert tokens.refreshes == 1

    async def dead(*, force_refresh: bool = False) -> str:
        return "ya29.not-a-token"

    async with GoogleAdsClient(f"{simulator_url}/google", token_provider=dead) as bad:
        with pytest.raises(AuthExpiredError) as refused:
            await bad.list_accessible_customers()
    assert "ya29.not-a-token" not in str(refused.value)


async def test_one_shared_http_client_serves_several_accounts(
    sim: GoogleSim, simulator_url: str
) -> None:
    agency, owner = Tokens(sim.http, "flightdeck.test@example.com"), Tokens(sim.http, OWNER_USER)
    async with httpx.AsyncClient(timeout=30) as shared:
        via_manager = GoogleAdsClient(f"{simulator_url}/google", token_provider=agency,
                                      login_customer_id=MANAGER, http=shared)  # fmt: skip
        direct = GoogleAdsClient(f"{simulator_url}/google", token_provider=owner, http=shared)
        assert await via_manager.list_accessible_customers() == [MANAGER]
        assert await direct.list_accessible_customers() == [CID]
        await via_manager.aclose()  # does not close what it does not own
        assert len(await direct.search(CID, "SELECT customer.id FROM customer")) == 1
        assert "login-customer-id" not in shared.headers and "authorization" not in shared.headers


async def test_oauth_code_flow(sim: GoogleSim, simulator_url: str) -> None:
    oauth = GoogleOAuthClient(f"{simulator_url}/google/o/oauth2/v2/auth",
                              f"{simulator_url}/google/oauth2/v3/token", CLIENT_ID,
                              CLIENT_SECRET)  # fmt: skip
    async with oauth:
        verifier = new_code_verifier()
        url = oauth.authorize_url("state-1", code_challenge(verifier), REDIRECT_URI)
        assert "access_type=offline" in url and "auth%2Fadwords" in url
        consent = await sim.http.get(url)
        back = httpx.URL(consent.headers["location"]).params
        assert back["state"] == "state-1"
        tokens = await oauth.exchange_code(back["code"], verifier, REDIRECT_URI)
        assert tokens.refresh_token and "https://www.googleapis.com/auth/adwords" in tokens.scopes
        renewed = await oauth.refresh(tokens.refresh_token)
        assert renewed.refresh_token == tokens.refresh_token, "Google keeps the refresh token"
        assert renewed.access_token != tokens.access_token

        with pytest.raises(AuthExpiredError) as reused:
            await oauth.exchange_code(back["code"], verifier, REDIRECT_URI)
        assert not isinstance(reused.value, RefreshTokenInvalid)
        await sim.http.post("/_sim/google/oauth/revoke", json={})
        with pytest.raises(RefreshTokenInvalid) as dead:
            await oauth.refresh(tokens.refresh_token)
        assert tokens.refresh_token not in str(dead.value)
        assert CLIENT_SECRET not in str(dead.value.details)


def test_the_contract_check_catches_what_google_would_refuse() -> None:
    """The checker above is not vacuous: a number for an int64, an unknown or output-only
    field, or a mask on an immutable field are each flagged."""

    def request(body: dict[str, Any], path: str = "campaigns:mutate") -> httpx.Request:
        url = f"http://sim/google/v25/customers/{CID}/{path}"
        return httpx.Request("POST", url, json=body)

    good = {"operations": [{"create": {"name": "n", "amountMicros": "1000000"}}]}
    assert contract_problems(request(good, "campaignBudgets:mutate")) == []
    for bad in (
        {"operations": [{"create": {"name": "n", "amountMicros": 1000000}}]},
        {"operations": [{"create": {"name": "n", "amount_micros": "1"}}]},
        {"operations": [{"create": {"name": "n", "referenceCount": "1"}}]},
        {"operations": [{"update": {"resourceName": "x", "period": "DAILY"},
                         "updateMask": "period"}]},
    ):  # fmt: skip
        assert contract_problems(request(bad, "campaignBudgets:mutate")), bad
