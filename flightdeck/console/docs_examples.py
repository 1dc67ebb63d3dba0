"""Request and response examples for the main endpoints, put into the OpenAPI document (and so
shown by `/docs` and `/redoc`). Each is a real shape the route answers with; `tests/api/
test_console_docs.py` checks every example body against the route's own schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PLAN = "0b6f1e5e-8f8e-4c61-9a55-0d6f3b7c9e21"
SET = "5e2a9c1d-3b7f-4d2e-8a61-2f9c0b4d7e13"
CAMPAIGN = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
AD_GROUP = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
CONFLICT = "3f2e1d0c-9b8a-4765-a432-10fedcba9876"
ACTION = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
ALERT = "4d5e6f70-8192-4a3b-bc4d-5e6f70819203"
METRIC_CAMPAIGN = "6e7f8091-a2b3-4c4d-8e5f-60718293a4b5"
WHEN = "2026-11-29T09:30:00Z"
EXAMPLE_PLAN = Path(__file__).resolve().parents[2] / "examples" / "plan.json"


def _plan_body() -> dict[str, Any]:
    try:
        body: dict[str, Any] = json.loads(EXAMPLE_PLAN.read_text())
        return body
    except OSError:  # installed without the repository's examples/
        return {"requestId": "demo-juvederm-2025-10-21", "brand": "BrandX", "adSets": []}


def _plan_out() -> dict[str, Any]:
    return {
        "id": PLAN, "requestId": "demo-juvederm-2025-10-21",
        "workflowId": f"publish-{PLAN}-demo-juvederm-2025-10-21", "status": "active",
        "hookSetId": "hookset_juvederm_2025_10_21",
        "campaignName": "BrandX_OUTCOME_SALES_hookset_juvederm_2025_10_21_US_FB_2025-10-21_Health",
        "adSetNames": ["women2545_feeds_PURCHASE_ABO_v1"], "adNames": [["hook01_1-1"]],
        "strategisTemplateId": "tpl_81", "plan": {"requestId": "demo-juvederm-2025-10-21"},
        "createdAt": WHEN, "updatedAt": WHEN,
    }  # fmt: skip


def _set_out() -> dict[str, Any]:
    return {
        "id": SET, "name": "Q4 prospecting", "description": None, "platform": "reddit",
        "adAccountId": "2b3c4d5e-6f70-4819-a2b3-c4d5e6f70819", "status": "active",
        "syncStatus": "synced", "lastSyncedAt": WHEN, "createdAt": WHEN, "updatedAt": WHEN,
    }  # fmt: skip


def _conflict() -> dict[str, Any]:
    return {
        "id": CONFLICT, "entityType": "ad_group", "entityId": AD_GROUP, "platform": "reddit",
        "platformId": "t2_adgroup_123",
        "fields": [{"field": "budget", "base": {"type": "daily", "amount": "50", "currency": "USD"},
                    "local": {"type": "daily", "amount": "60", "currency": "USD"},
                    "platform": {"type": "daily", "amount": "70", "currency": "USD"}}],
        "status": "open", "resolution": None, "detectedAt": WHEN, "resolvedAt": None,
        "escalatedAt": None, "workflowId": f"conflict-ad_group-{AD_GROUP}",
    }  # fmt: skip


def _action(status: str = "pending_approval") -> dict[str, Any]:
    executed = status == "executed"
    return {
        "id": ACTION, "actionType": "BUDGET_CHANGE", "platform": "meta",
        "campaignId": METRIC_CAMPAIGN, "campaignName": "BrandX prospecting",
        "previousState": {"status": "ACTIVE", "dailyBudget": "100.00"},
        "newState": {"status": "ACTIVE", "dailyBudget": "120.00"} if executed else {},
        "reasoning": "ROAS 3.1 over 7 days is 55% above the 2.0 target at 96% budget use",
        "confidence": "0.82", "status": status, "outcome": "applied" if executed else None,
        "executedAt": WHEN if executed else None, "executedBy": "user:alice" if executed else None,
        "approvalRequired": True, "approvedBy": "user:alice" if executed else None,
        "approvedAt": WHEN if executed else None, "decidedBy": "user:alice" if executed else None,
        "decidedAt": WHEN if executed else None, "proposedBy": "recommendation",
        "recommendationId": None, "revertsActionId": None, "autonomous": False,
        "expiresAt": "2026-11-30T09:30:00Z", "workflowId": f"action-{ACTION}", "createdAt": WHEN,
    }  # fmt: skip


def _alert() -> dict[str, Any]:
    return {
        "id": ALERT, "alertType": "ROAS_DROP", "severity": "HIGH",
        "campaignId": METRIC_CAMPAIGN, "campaignName": "BrandX prospecting", "platform": "meta",
        "entityType": "campaign", "entityId": METRIC_CAMPAIGN,
        "message": "ROAS 1.2 over the last 3 days is 52% below its 14-day baseline of 2.5",
        "metricName": "roas", "metricValue": "1.2", "thresholdValue": "0.3",
        "details": {"baseline": "2.5", "recent": "1.2"}, "fireCount": 1, "createdAt": WHEN,
        "lastFiredAt": WHEN, "acknowledgedAt": None, "acknowledgedBy": None, "resolvedAt": None,
        "resolvedBy": None, "notifiedAt": None, "notificationError": None,
    }  # fmt: skip


def examples() -> dict[tuple[str, str], dict[str, Any]]:
    """(method, path) → {"request": body?, "responses": {status: body}}."""
    started = {"jobId": f"sync-set-{SET}", "status": "queued"}
    return {
        ("post", "/api/v1/campaign-plans"): {
            "request": _plan_body(),
            "responses": {
                "202": {
                    "id": PLAN,
                    "requestId": "demo-juvederm-2025-10-21",
                    "workflowId": f"publish-{PLAN}-demo-juvederm-2025-10-21",
                    "status": "pending",
                }
            },
        },  # fmt: skip
        ("get", "/api/v1/campaign-plans"): {
            "responses": {"200": {"items": [_plan_out()], "nextCursor": None}}
        },
        ("get", "/api/v1/campaign-plans/{plan_id}"): {"responses": {"200": _plan_out()}},
        ("get", "/api/v1/campaign-plans/{plan_id}/mapping"): {
            "responses": {
                "200": {
                    "campaignPlanId": PLAN,
                    "requestId": "demo-juvederm-2025-10-21",
                    "strategisTemplateId": "tpl_81",
                    "strategisCampaignIds": ["stg_501"],
                    "facebookCampaignId": "120200000000001",
                    "facebookAdSetIds": ["120200000000002"],
                    "facebookCreativeIds": ["120200000000003"],
                    "facebookAdIds": ["120200000000004"],
                    "trackingUrls": ["https://lander.example.com/?cid=stg_501"],
                    "status": "active",
                    "errors": [],
                    "objects": [
                        {
                            "system": "facebook",
                            "objectType": "campaign",
                            "externalId": "120200000000001",
                            "state": "created",
                            "adSetIndex": None,
                            "adIndex": None,
                            "name": "BrandX_OUTCOME_SALES_…",
                            "clientRequestKey": None,
                        }
                    ],
                    "createdAt": WHEN,
                    "updatedAt": WHEN,
                }
            }
        },  # fmt: skip
        ("post", "/api/v1/campaign-sets"): {
            "request": {
                "name": "Q4 prospecting",
                "adAccountId": _set_out()["adAccountId"],
                "campaigns": [
                    {
                        "name": "Prospecting US",
                        "objective": "conversions",
                        "budget": {"type": "daily", "amount": 50, "currency": "USD"},
                        "adGroups": [
                            {
                                "name": "Lookalike 1%",
                                "bidStrategy": "automatic",
                                "ads": [
                                    {
                                        "name": "Free trial",
                                        "headline": "Try it free",
                                        "finalUrl": "https://example.com",
                                        "callToAction": "LEARN_MORE",
                                    }
                                ],
                            }
                        ],
                    }
                ],
            },
        },  # fmt: skip
        ("get", "/api/v1/campaign-sets"): {
            "responses": {"200": {"items": [_set_out()], "nextCursor": None}}
        },
        ("post", "/api/v1/campaign-sets/{set_id}/sync"): {"responses": {"202": started}},
        ("get", "/api/v1/campaign-sets/{set_id}/sync-status"): {
            "responses": {
                "200": {
                    "status": "failed",
                    "progress": {"synced": 2, "failed": 1, "total": 3},
                    "errors": [
                        {
                            "campaignId": CAMPAIGN,
                            "message": "Reddit refused the campaign: "
                            "400 INVALID_BUDGET daily budget below the minimum",
                        }
                    ],
                    "lastSyncedAt": WHEN,
                    "jobId": f"sync-set-{SET}",
                }
            }
        },  # fmt: skip
        ("get", "/api/v1/conflicts"): {"responses": {"200": {"items": [_conflict()]}}},
        ("get", "/api/v1/conflicts/{conflict_id}"): {"responses": {"200": _conflict()}},
        ("post", "/api/v1/conflicts/{conflict_id}/resolve"): {
            "request": {"resolution": "use_local"},
            "responses": {
                "202": {
                    "jobId": f"conflict-ad_group-{AD_GROUP}",
                    "conflictId": CONFLICT,
                    "resolution": "use_local",
                    "status": "accepted",
                }
            },
        },  # fmt: skip
        ("get", "/api/v1/actions"): {
            "responses": {"200": {"items": [_action()], "nextCursor": None}}
        },
        ("post", "/api/v1/actions"): {
            "request": {
                "actionType": "BUDGET_CHANGE",
                "campaignId": METRIC_CAMPAIGN,
                "budgetAmount": "120.00",
                "reasoning": "strong ROAS this week",
            },
        },  # fmt: skip
        ("post", "/api/v1/actions/{action_id}/approve"): {
            "responses": {"200": _action("executed")},
        },
        ("post", "/api/v1/actions/{action_id}/reject"): {
            "request": {"reason": "not this week"},
            "responses": {
                "200": _action("rejected") | {"decidedBy": "user:alice", "decidedAt": WHEN}
            },
        },  # fmt: skip
        ("get", "/api/v1/alerts"): {
            "responses": {"200": {"items": [_alert()], "nextCursor": None}}
        },
        ("post", "/api/v1/alerts/{alert_id}/acknowledge"): {
            "responses": {
                "200": _alert() | {"acknowledgedAt": WHEN, "acknowledgedBy": "user:alice"}
            }
        },  # fmt: skip
    }


def add_examples(schema: dict[str, Any]) -> None:
    """Put each example on its operation: the request body's and each answer's JSON media."""
    paths = schema.get("paths", {})
    for (method, path), example in examples().items():
        operation = paths.get(path, {}).get(method)
        if operation is None:
            continue
        if "request" in example:
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is not None:
                media["example"] = example["request"]
        for status, body in example.get("responses", {}).items():
            answer = operation.setdefault("responses", {}).setdefault(
                status, {"description": "Successful Response"}
            )
            answer.setdefault("content", {}).setdefault("application/json", {})["example"] = body
