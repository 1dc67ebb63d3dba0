"""Meta's ad review as the Graph simulator plays it (metrics-and-review.md §2, §5).

A new ad is `PENDING_REVIEW` for the delay of the first review rule whose `name_contains`
matches its name (settable through `/_sim/meta/review`), then the rule's outcome applies:

- approve: the ad takes the effective status its own and its parents' statuses give (a paused
  ad stays PAUSED; a paused parent shows CAMPAIGN_PAUSED / ADSET_PAUSED);
- disapprove: `DISAPPROVED`, with `ad_review_feedback.global` (the rule's feedback, else a
  default policy text) and an `issues_info` entry;
- with_issues: `WITH_ISSUES`, with `issues_info`.

The decision is taken lazily when the ad is read after its delay (or at once through
`POST /_sim/meta/ads/{id}/review`). The transition graph is our reading; Meta's formal one is
UNCONFIRMED. A budget or name edit never re-triggers review.
"""

from __future__ import annotations

import time
from typing import Any

from flightdeck.simulators.meta_state import ReviewRule

REVIEW_KEY = "review"  # internal field on stored ads (hidden from Graph reads)
OUTCOMES = ("approve", "disapprove", "with_issues")
DEFAULT_FEEDBACK = {
    "ADVERTISING_POLICIES": "Your ad wasn't approved because it doesn't comply with our "
    "Advertising Policies."
}


def submit(ad: dict[str, Any], rules: list[ReviewRule]) -> None:
    """Put a new ad into review under the first matching rule."""
    name = str(ad.get("name", ""))
    rule = next(
        (r for r in rules if r.name_contains is None or r.name_contains in name),
        ReviewRule(),
    )
    ad[REVIEW_KEY] = {
        "outcome": rule.outcome,
        "due": time.time() + rule.delay_seconds,
        "feedback": rule.feedback,
        "decided": False,
    }
    ad["effective_status"] = "PENDING_REVIEW"


def decide(ad: dict[str, Any], outcome: str | None = None) -> None:
    """End the ad's review now (with `outcome`, else the one its rule chose)."""
    review = ad.get(REVIEW_KEY)
    if review is None:
        return
    if outcome is not None:
        review["outcome"] = outcome
    review["due"] = min(review["due"], time.time())


def view(ad: dict[str, Any], normal_status: str) -> dict[str, Any]:
    """The review fields of an ad's Graph view: `effective_status`, `ad_review_feedback`,
    `issues_info`. `normal_status` is what the statuses alone would give."""
    review = ad.get(REVIEW_KEY)
    if review is None:
        return {"effective_status": normal_status}
    if not review["decided"] and time.time() >= review["due"]:
        review["decided"] = True
    if ad.get("status") in ("DELETED", "ARCHIVED"):
        return {"effective_status": ad["status"]}
    if not review["decided"]:
        return {"effective_status": "PENDING_REVIEW", "ad_review_feedback": None, "issues_info": []}
    if review["outcome"] == "disapprove":
        feedback = review["feedback"] or DEFAULT_FEEDBACK
        return {
            "effective_status": "DISAPPROVED",
            "ad_review_feedback": {"global": dict(feedback)},
            "issues_info": [_issue("Ad disapproved", next(iter(feedback.values())))],
        }
    if review["outcome"] == "with_issues":
        message = next(iter((review["feedback"] or {"": "The ad has delivery issues"}).values()))
        return {
            "effective_status": "WITH_ISSUES",
            "ad_review_feedback": None,
            "issues_info": [_issue("Ad has issues", message)],
        }
    return {"effective_status": normal_status, "ad_review_feedback": None, "issues_info": []}


def _issue(summary: str, message: str) -> dict[str, Any]:
    return {
        "error_code": 1815869,
        "error_message": message,
        "error_summary": summary,
        "error_type": "HARD_ERROR",
        "level": "AD",
    }
