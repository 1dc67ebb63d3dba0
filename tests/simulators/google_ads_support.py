"""Helpers for tests against the Google Ads simulator over real HTTP: a registered OAuth client,
tokens for a user, and valid bodies for a campaign tree (tests change one field to break it)."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from flightdeck.simulators.google_ads_state import (
    AGENCY_USER,
    CLIENT_CUSTOMER_ID,
    MANAGER_CUSTOMER_ID,
)

CLIENT_ID = "flightdeck-google-test.apps.googleusercontent.com"
CLIENT_SECRET = "google-test-secret"
REDIRECT_URI = "http://127.0.0.1:8000/api/v1/ad-accounts/google/callback"
CID = CLIENT_CUSTOMER_ID
MANAGER = MANAGER_CUSTOMER_ID
BASE = f"customers/{CID}"


def rsa(headlines: int = 3, descriptions: int = 2, **overrides: Any) -> dict[str, Any]:
    body = {
        "finalUrls": ["https://example.com/landing"],
        "responsiveSearchAd": {
            "headlines": [{"text": f"Headline {i}"} for i in range(headlines)],
            "descriptions": [{"text": f"Description number {i}"} for i in range(descriptions)],
            "path1": "deals",
        },
    }
    body.update(overrides)
    return body


def campaign_tree(name: str = "Campaign A", temp: int = 1) -> list[dict[str, Any]]:
    """One googleAds:mutate tree: budget, campaign, ad group, RSA, keyword and a negative."""
    budget, campaign, group = (f"-{temp}", f"-{temp + 1}", f"-{temp + 2}")
    return [
        {
            "campaignBudgetOperation": {
                "create": {
                    "resourceName": f"{BASE}/campaignBudgets/{budget}",
                    "amountMicros": "5000000",
                    "explicitlyShared": False,
                    "deliveryMethod": "STANDARD",
                }
            }
        },
        {
            "campaignOperation": {
                "create": {
                    "resourceName": f"{BASE}/campaigns/{campaign}",
                    "name": name,
                    "status": "PAUSED",
                    "advertisingChannelType": "SEARCH",
                    "campaignBudget": f"{BASE}/campaignBudgets/{budget}",
                    "manualCpc": {},
                    "networkSettings": {"targetGoogleSearch": True, "targetSearchNetwork": False},
                    "containsEuPoliticalAdvertising": "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING",
                }
            }
        },
        {
            "adGroupOperation": {
                "create": {
                    "resourceName": f"{BASE}/adGroups/{group}",
                    "name": "Group 1",
                    "campaign": f"{BASE}/campaigns/{campaign}",
                    "status": "ENABLED",
                    "type": "SEARCH_STANDARD",
                    "cpcBidMicros": "1500000",
                }
            }
        },
        {
            "adGroupAdOperation": {
                "create": {"adGroup": f"{BASE}/adGroups/{group}", "status": "ENABLED", "ad": rsa()}
            }
        },
        {
            "adGroupCriterionOperation": {
                "create": {
                    "adGroup": f"{BASE}/adGroups/{group}",
                    "status": "ENABLED",
                    "keyword": {"text": "running shoes", "matchType": "PHRASE"},
                }
            }
        },
        {
            "adGroupCriterionOperation": {
                "create": {
                    "adGroup": f"{BASE}/adGroups/{group}",
                    "negative": True,
                    "keyword": {"text": "free", "matchType": "BROAD"},
                }
            }
        },
    ]


class GoogleSim:
    """Drives the simulator as a client would, with tokens for one user."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.headers: dict[str, str] = {}
        self.refresh_token = ""

    async def setup(
        self, email: str = AGENCY_USER, access_level: str = "BASIC", login: str | None = MANAGER
    ) -> None:
        await self.http.post("/_sim/reset")
        app = {
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "redirectUri": REDIRECT_URI,
            "accessLevel": access_level,
        }
        assert (await self.http.post("/_sim/google/oauth/apps", json=app)).status_code == 201
        tokens = (
            await self.http.post(
                "/_sim/google/oauth/tokens", json={"clientId": CLIENT_ID, "email": email}
            )
        ).json()
        self.refresh_token = tokens["refresh_token"]
        self.headers = {
            "Authorization": f"Bearer {tokens['access_token']}",
            "developer-token": "ignored-since-2026-09",
        }
        if login:
            self.headers["login-customer-id"] = login

    async def post(self, path: str, body: dict[str, Any], cid: str = CID) -> httpx.Response:
        return await self.http.post(
            f"/google/v25/customers/{cid}/{path}", json=body, headers=self.headers
        )

    async def mutate(self, collection: str, operations: list[Any], **flags: Any) -> httpx.Response:
        return await self.post(f"{collection}:mutate", {"operations": operations, **flags})

    async def ads_mutate(self, operations: list[Any], **flags: Any) -> httpx.Response:
        return await self.post("googleAds:mutate", {"mutateOperations": operations, **flags})

    async def search(self, query: str, **extra: Any) -> httpx.Response:
        return await self.post("googleAds:search", {"query": query, **extra})

    async def rows(self, query: str) -> list[dict[str, Any]]:
        response = await self.search(query)
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json().get("results", [])
        return rows

    async def counts(self) -> dict[str, int]:
        state = (await self.http.get("/_sim/state")).json()["platforms"]["google"]
        return {kind: body["count"] for kind, body in state.items() if kind != "customers"}


def errors_of(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    details = body["error"]["details"]
    assert details[0]["@type"].endswith("google.ads.googleads.v25.errors.GoogleAdsFailure")
    errors: list[dict[str, Any]] = details[0]["errors"]
    return errors


def tree_copy(name: str = "Campaign A", temp: int = 1) -> list[dict[str, Any]]:
    return copy.deepcopy(campaign_tree(name, temp))
