"""The Reddit Ads API v3 simulator (mounted at `/reddit`), faithful to
../shared/platforms/reddit-ads-api.md and to Reddit's OpenAPI spec, whose extract
(`specs/reddit-ads-v3.openapi.json`) validates every request body and query.

    /reddit/api/v1/authorize, /access_token     OAuth2 (www.reddit.com)   reddit_oauth.py
    /reddit/api/v3/me, businesses, ad_accounts,
        funding_instruments, pixels, profiles   the advertiser's world     reddit_accounts.py
    /reddit/api/v3/… campaigns, ad_groups,
        ads, posts                              create/get/list/PATCH      reddit_ads.py
    /reddit/api/v3/ad_accounts/{id}/reports     metrics reports            reddit_reports.py
    /reddit/media/{id}                          hosted post media (i.redd.it) reddit_media.py
    /_sim/reddit/…                              OAuth and rate-limit admin reddit_admin.py,
                                                media uploads               reddit_media.py

Every Ads API request: bearer token (401 unknown or expired), scope (403), per-policy rate
limit (429, with `RateLimit`/`RateLimit-Policy` on every answer), then spec validation (400
with `fields`), then the platform's rules (`reddit_rules.py`). Unknown paths and wrong verbs
are 404, as on the live API. Money is integer micros; ids are numeric strings, posts `t3_…`.
The seeded world (`reddit_state.py`): business `BUSINESS_ID`, ad account `AD_ACCOUNT_ID`
with funding instrument `FUNDING_INSTRUMENT_ID`, pixel `PIXEL_ID` and profile `PROFILE_ID`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from flightdeck.simulators import (
    reddit_accounts,
    reddit_admin,
    reddit_ads,
    reddit_media,
    reddit_oauth,
    reddit_reports,
)
from flightdeck.simulators.reddit_errors import render_reddit_fault

__all__ = ["admin_router", "render_reddit_fault", "router"]

fallback_router = APIRouter()


@fallback_router.api_route(
    "/api/v3/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def not_found(rest: str, request: Request) -> JSONResponse:
    """Reddit answers an unknown path, or a known one with the wrong verb, with 404 (not 405):
    [CAM] observed it on the live API. Routes are tried in order, so this one comes last."""
    return JSONResponse({"error": {"code": 404, "message": "Not Found"}}, status_code=404)


router = APIRouter()
router.include_router(reddit_oauth.router)
router.include_router(reddit_accounts.router)
router.include_router(reddit_ads.router)
router.include_router(reddit_media.router)
router.include_router(reddit_reports.router)
router.include_router(fallback_router)

admin_router = APIRouter()
admin_router.include_router(reddit_admin.router)
admin_router.include_router(reddit_media.admin_router)
