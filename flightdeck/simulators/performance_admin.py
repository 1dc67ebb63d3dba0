"""Admin routes that shape how simulated campaigns perform, under `/_sim/performance`:

POST /campaigns     a campaign made in the platform's own UI (Flightdeck discovers it):
                    {platform: meta|reddit|google, accountId (Google: the customer id), name,
                     dailyBudget (major units),
                     status?: ACTIVE|PAUSED, objective?, runningDays?}
POST /backdate      {platform, campaignId, days}: it has run as it is now for that long
PUT  /shapes        {rules: [{platform, campaignId?, since?, until?, multipliers}]}, e.g.
                    {"multipliers": {"conversions": 0}} from a day on: conversions collapse
POST /days          {platform, campaignId, day, values: {impressions?, clicks?, spend?,
                     conversions?, revenue?}}: report exactly these (money in major units)
POST /clock         {advanceSeconds} or {offsetSeconds}: move the simulators' "now"
POST /settings      {seed?, maturityDays?: {meta?, reddit?}, syncRowCap?}
GET  /series        ?platform&campaignId&since&until&tz: the days as the platform reports
POST /insights/throttle   {accountPct?, appPct?, callsPerWindow?, appCallsPerWindow?,
                           windowSeconds?, error?: code4|code80000, regainSeconds?}
POST /insights/jobs       {durationSeconds?, failNext?, skipNext?}: async report runs
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from flightdeck.domain import reddit_vocabulary as vocab
from flightdeck.domain.meta_rules import to_minor
from flightdeck.simulators import performance_sources as sources
from flightdeck.simulators.facebook import FacebookObjects
from flightdeck.simulators.google_ads_mutate import KINDS, Mutator, OperationFailed
from flightdeck.simulators.google_ads_state import UI_USER
from flightdeck.simulators.performance import FIELDS, InsightsThrottle, Shape, as_json
from flightdeck.simulators.reddit_objects import RedditObjects
from flightdeck.simulators.reddit_state import FUNDING_INSTRUMENT_ID, PIXEL_ID, reddit_time
from flightdeck.simulators.routing import SimulatorError
from flightdeck.simulators.state import SimulatorState, StateDep

router = APIRouter()
Platform = Literal["meta", "reddit", "google"]


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class CampaignIn(_Camel):
    platform: Platform
    account_id: str
    name: str = Field(min_length=1, max_length=400)
    daily_budget: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    status: Literal["ACTIVE", "PAUSED"] = "ACTIVE"
    objective: str | None = None
    running_days: float = Field(default=0, ge=0, le=800)


class BackdateIn(_Camel):
    platform: Platform
    campaign_id: str
    days: float = Field(gt=0, le=800)


class ShapeIn(_Camel):
    platform: Platform
    campaign_id: str | None = None
    since: date | None = None
    until: date | None = None
    multipliers: dict[str, Decimal]


class ShapesIn(_Camel):
    rules: list[ShapeIn]


class DayIn(_Camel):
    platform: Platform
    campaign_id: str
    day: date
    values: dict[str, Decimal]


class ClockIn(_Camel):
    advance_seconds: float | None = None
    offset_seconds: float | None = None
    frozen: bool | None = None  # true: "now" stops where it is; false: it runs again


class SettingsIn(_Camel):
    seed: int | None = None
    maturity_days: dict[str, int] | None = None
    sync_row_cap: int | None = Field(default=None, ge=1)


class ThrottleIn(_Camel):
    account_pct: float | None = Field(default=None, ge=0)
    app_pct: float | None = Field(default=None, ge=0)
    calls_per_window: int = Field(default=600, ge=1)
    app_calls_per_window: int = Field(default=5000, ge=1)
    window_seconds: float = Field(default=300.0, gt=0)
    error: Literal["code4", "code80000"] = "code80000"
    regain_seconds: float = Field(default=60.0, ge=0)


class JobsIn(_Camel):
    duration_seconds: float | None = Field(default=None, ge=0)
    fail_next: int | None = Field(default=None, ge=0)
    skip_next: int | None = Field(default=None, ge=0)


@router.post("/campaigns", status_code=201)
async def create_campaign(body: CampaignIn, state: StateDep) -> dict[str, Any]:
    async with state.lock:
        if body.platform == "meta":
            campaign = _meta_campaign(state, body)
        elif body.platform == "google":
            campaign = _google_campaign(state, body)
        else:
            campaign = _reddit_campaign(state, body)
        if body.running_days:
            state.performance.backdate(body.platform, campaign["id"], body.running_days)
    return campaign


def _meta_campaign(state: SimulatorState, body: CampaignIn) -> dict[str, Any]:
    account = state.objects["meta"]["adaccounts"].get(body.account_id)
    if account is None:
        raise HTTPException(404, f"no Meta ad account {body.account_id!r}")
    store = FacebookObjects(state, None, ad_accounts=[account["id"]])
    fields = {
        "adAccountId": account["id"],
        "name": body.name,
        "objective": body.objective or "OUTCOME_SALES",
        "status": body.status,
        "special_ad_categories": [],
        "daily_budget": to_minor(body.daily_budget, str(account["currency"])),
        "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
    }
    return store.create("campaigns", fields, client_request_key="")


def _google_campaign(state: SimulatorState, body: CampaignIn) -> dict[str, Any]:
    """A Search campaign with its own daily budget, made in the Google Ads UI; `id` is its
    resource name (what the API and Flightdeck call it)."""
    if body.account_id not in state.objects["google"]["customers"]:
        raise HTTPException(404, f"no Google Ads customer {body.account_id!r}")
    mutator = Mutator(
        state.google,
        state.objects["google"],
        body.account_id,
        UI_USER,
        client_type="GOOGLE_ADS_WEB_CLIENT",
    )
    micros = int(body.daily_budget * 1_000_000)
    try:
        budget = mutator.create(
            KINDS["campaignBudgets"],
            {"amountMicros": str(micros), "explicitlyShared": False, "period": "DAILY"},
        )
        created = mutator.create(
            KINDS["campaigns"],
            {
                "name": body.name,
                "status": "ENABLED" if body.status == "ACTIVE" else "PAUSED",
                "advertisingChannelType": "SEARCH",
                "campaignBudget": budget["resourceName"],
                "manualCpc": {},
                "containsEuPoliticalAdvertising": "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING",
            },
        )
    except OperationFailed as exc:
        mutator.tx.rollback()
        raise HTTPException(422, [e.to_json() for e in exc.errors]) from None
    mutator.commit()
    sources.google_changed(state, mutator.tx.events)
    campaign = state.objects["google"]["campaigns"][created["resourceName"]]
    return {**campaign, "id": campaign["resourceName"]}


def _reddit_campaign(state: SimulatorState, body: CampaignIn) -> dict[str, Any]:
    """A budget-optimized campaign, valid under Reddit's rules (as its UI would make it)."""
    if body.account_id not in state.store("reddit", "ad_accounts"):
        raise HTTPException(404, f"no Reddit ad account {body.account_id!r}")
    objective = body.objective or "CLICKS"
    start = datetime.now(UTC) - timedelta(days=body.running_days)
    fields = {
        "name": body.name,
        "objective": objective,
        "configured_status": body.status,
        "funding_instrument_id": FUNDING_INSTRUMENT_ID,
        "is_campaign_budget_optimization": True,
        "conversion_pixel_id": PIXEL_ID,
        "start_time": reddit_time(start),
        **vocab.reddit_budget("daily", body.daily_budget),
        **vocab.reddit_bidding("automatic", objective),
    }
    if objective in ("CONVERSIONS", "CATALOG_SALES", "APP_INSTALLS"):
        fields["optimization_goal"] = "PURCHASE"
    try:
        return RedditObjects(state, body.account_id).create("campaigns", fields)
    except SimulatorError as error:
        raise HTTPException(422, error.body) from None


@router.post("/backdate")
async def backdate(body: BackdateIn, state: StateDep) -> dict[str, Any]:
    async with state.lock:
        _observe(state, body.platform, body.campaign_id)
        try:
            state.performance.backdate(body.platform, body.campaign_id, body.days)
        except KeyError:
            raise HTTPException(404, f"no {body.platform} campaign {body.campaign_id!r}") from None
    return {"campaignId": body.campaign_id, "days": body.days}


@router.put("/shapes")
async def set_shapes(body: ShapesIn, state: StateDep) -> dict[str, Any]:
    for rule in body.rules:
        unknown = set(rule.multipliers) - set(FIELDS)
        if unknown:
            raise HTTPException(422, f"unknown fields {sorted(unknown)}; use {list(FIELDS)}")
    async with state.lock:
        state.performance.shapes = [
            Shape(r.platform, r.campaign_id, r.since, r.until, dict(r.multipliers))
            for r in body.rules
        ]
    return body.model_dump(mode="json", by_alias=True)


@router.post("/days")
async def override_day(body: DayIn, state: StateDep) -> dict[str, Any]:
    unknown = set(body.values) - set(FIELDS)
    if unknown:
        raise HTTPException(422, f"unknown fields {sorted(unknown)}; use {list(FIELDS)}")
    async with state.lock:
        values = state.performance.override(
            body.platform, body.campaign_id, body.day, dict(body.values)
        )
    return as_json(values)


@router.post("/clock")
async def move_clock(body: ClockIn, state: StateDep) -> dict[str, Any]:
    async with state.lock:
        if body.frozen is not None:
            perf = state.performance
            perf.frozen_at = perf.now() - perf.clock_offset_seconds if body.frozen else None
        if body.offset_seconds is not None:
            state.performance.clock_offset_seconds = body.offset_seconds
        if body.advance_seconds is not None:
            state.performance.clock_offset_seconds += body.advance_seconds
    return {"offsetSeconds": state.performance.clock_offset_seconds}


@router.post("/settings")
async def settings(body: SettingsIn, state: StateDep) -> dict[str, Any]:
    perf = state.performance
    async with state.lock:
        if body.seed is not None:
            perf.seed = body.seed
        if body.maturity_days is not None:
            perf.maturity_days.update(body.maturity_days)
        if body.sync_row_cap is not None:
            perf.sync_row_cap = body.sync_row_cap
    return {"seed": perf.seed, "maturityDays": perf.maturity_days, "syncRowCap": perf.sync_row_cap}


@router.get("/series")
async def series(
    platform: Platform,
    since: date,
    until: date,
    state: StateDep,
    campaign_id: Annotated[str, Query(alias="campaignId")],
) -> list[dict[str, Any]]:
    """What the platform reports now for each day, in major units (the account's calendar)."""
    if (until - since).days > 800:
        raise HTTPException(422, "at most 800 days")
    async with state.lock:
        tz = _observe(state, platform, campaign_id)
        days = state.performance.days(platform, campaign_id, since, until, tz)
        return [{"day": day.isoformat(), **as_json(values)} for day, values in days]


@router.post("/insights/throttle")
async def insights_throttle(body: ThrottleIn, state: StateDep) -> dict[str, Any]:
    async with state.lock:
        state.performance.insights_throttle = InsightsThrottle(**body.model_dump())
        state.performance.insights_calls.clear()
        state.performance.insights_refused_until.clear()
    return body.model_dump(by_alias=True)


@router.post("/insights/jobs")
async def insights_jobs(body: JobsIn, state: StateDep) -> dict[str, Any]:
    plan = state.performance.async_jobs
    async with state.lock:
        if body.duration_seconds is not None:
            plan.duration_seconds = body.duration_seconds
        if body.fail_next is not None:
            plan.fail_next = body.fail_next
        if body.skip_next is not None:
            plan.skip_next = body.skip_next
    return {
        "durationSeconds": plan.duration_seconds,
        "failNext": plan.fail_next,
        "skipNext": plan.skip_next,
    }


def _observe(state: SimulatorState, platform: str, campaign_id: str) -> str:
    """Bring the campaign's timeline up to date; its account's time zone (404 if unknown)."""
    if platform == "google":
        found = state.objects["google"]["campaigns"].get(campaign_id)
        if found is None:
            raise HTTPException(404, f"no google campaign {campaign_id!r}")
        sources.observe_google(state, found)
        return sources.google_timezone(state, campaign_id.split("/")[1])
    if platform == "meta":
        campaign = state.store("facebook", "campaigns").get(campaign_id)
        if campaign is None:
            raise HTTPException(404, f"no meta campaign {campaign_id!r}")
        sources.observe_facebook(state, campaign)
        return sources.facebook_timezone(state, str(campaign.get("account_id", "")))
    campaign = state.store("reddit", "campaigns").get(campaign_id)
    if campaign is None:
        raise HTTPException(404, f"no reddit campaign {campaign_id!r}")
    sources.observe_reddit(state, campaign)
    account = state.store("reddit", "ad_accounts").get(str(campaign["ad_account_id"]), {})
    return str(account.get("time_zone_id") or "UTC")
