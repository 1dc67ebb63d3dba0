"""Admin routes of the Graph simulator, under `/_sim/meta`:

    POST /apps                    register a Facebook Login app {appId, appSecret, redirectUri,
                                  requireAppsecretProof?, longLivedSeconds?}
    POST /review                  review rules [{outcome, delaySeconds, nameContains, feedback}]
    POST /ads/{id}/review         end one ad's review now {outcome?}
    POST /quota                   ads_management quota {callsPerWindow, windowSeconds, tier}
    GET  /sdk-problems            parameters the official SDK would not have sent as they came
    POST /users/{id}/expire-tokens   every token of the user expires now (Graph: 190/463)
    POST /users/{id}/revoke-tokens   every token of the user is invalidated (190/460)

Ad accounts, Pages and users are edited with the generic `PATCH /_sim/state/meta/{type}/{id}`
(e.g. `{"account_status": 2}` or `{"funding_source_details": null}`).
"""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from flightdeck.simulators import meta_review
from flightdeck.simulators.meta_state import LONG_LIVED_SECONDS, MetaApp, Quota, ReviewRule
from flightdeck.simulators.state import StateDep

router = APIRouter()


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class AppIn(_Camel):
    app_id: str = Field(min_length=1)
    app_secret: str = Field(min_length=1)
    redirect_uri: str = Field(min_length=1)
    require_appsecret_proof: bool = True
    long_lived_seconds: int = Field(default=LONG_LIVED_SECONDS, ge=1)


class ReviewRuleIn(_Camel):
    outcome: Literal["approve", "disapprove", "with_issues"] = "approve"
    delay_seconds: float = Field(default=0.0, ge=0)  # with a rule given, immediate by default
    name_contains: str | None = None
    feedback: dict[str, str] | None = None


class ReviewIn(_Camel):
    rules: list[ReviewRuleIn] = Field(min_length=1)


class DecideIn(_Camel):
    outcome: Literal["approve", "disapprove", "with_issues"] | None = None


class QuotaIn(_Camel):
    calls_per_window: int = Field(ge=1)
    window_seconds: float = Field(gt=0)
    tier: str = "standard_access"


@router.post("/apps", status_code=201)
async def register_app(app: AppIn, state: StateDep) -> dict[str, Any]:
    state.meta.apps[app.app_id] = MetaApp(
        app_id=app.app_id,
        app_secret=app.app_secret,
        redirect_uri=app.redirect_uri,
        require_appsecret_proof=app.require_appsecret_proof,
        long_lived_seconds=app.long_lived_seconds,
    )
    return {"appId": app.app_id, "redirectUri": app.redirect_uri}


@router.post("/review")
async def set_review(body: ReviewIn, state: StateDep) -> dict[str, Any]:
    state.meta.review_rules = [ReviewRule(**rule.model_dump()) for rule in body.rules]
    return body.model_dump(by_alias=True)


@router.post("/ads/{ad_id}/review")
async def decide_review(ad_id: str, body: DecideIn, state: StateDep) -> dict[str, Any]:
    ad = state.store("facebook", "ads").get(ad_id)
    if ad is None or meta_review.REVIEW_KEY not in ad:
        raise HTTPException(404, f"no ad {ad_id!r} under Graph review")
    async with state.lock:
        meta_review.decide(ad, body.outcome)
    return {"id": ad_id, "outcome": ad[meta_review.REVIEW_KEY]["outcome"]}


@router.post("/quota")
async def set_quota(body: QuotaIn, state: StateDep) -> dict[str, Any]:
    async with state.lock:
        state.meta.quota = Quota(body.calls_per_window, body.window_seconds, body.tier)
        state.meta.calls.clear()
    return body.model_dump(by_alias=True)


@router.get("/sdk-problems")
async def sdk_problems(state: StateDep) -> list[str]:
    """Requests whose parameters fail the official SDK's types (unknown ones included)."""
    return list(state.meta.sdk_problems)


@router.post("/users/{user_id}/expire-tokens")
async def expire_tokens(user_id: str, state: StateDep) -> dict[str, Any]:
    return {"expired": _change_tokens(state, user_id, revoke=False)}


@router.post("/users/{user_id}/revoke-tokens")
async def revoke_tokens(user_id: str, state: StateDep) -> dict[str, Any]:
    return {"revoked": _change_tokens(state, user_id, revoke=True)}


def _change_tokens(state: StateDep, user_id: str, *, revoke: bool) -> int:
    changed = 0
    for token in state.meta.tokens.values():
        if token.user_id == user_id:
            if revoke:
                token.revoked = True
            else:
                token.expires_at = time.time() - 1
            changed += 1
    return changed
