"""Actions (seed 004's `ai_actions_log`): what they change, how a stale one is recognised, and the
guardrails of autonomous mode — pure functions shared by the API, the workflow's update
validator and the activities.

A state is `{"status": "active" | "paused", "budgetAmount": "50.00" | None, "budgetType"}` per
campaign; a REALLOCATE holds one per campaign: `{"campaigns": {<registry id>: state}}`.

    PAUSE          new_state {"status": "paused"}
    BUDGET_CHANGE  new_state {"budgetAmount": "60.00"}
    REALLOCATE     new_state {"campaigns": {id: {"budgetAmount": …}, …}}

An action is *stale* when the campaign no longer is in the state it assumed (`previous_state`):
a budget someone changed meanwhile, a campaign paused by hand. Stale actions are refused —
by the approval's validator and again right before the platform is touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flightdeck.domain.performance_settings import AutonomousMode

ACTION_TYPES = ("PAUSE", "BUDGET_CHANGE", "REALLOCATE")
AI_AUTONOMOUS = "ai_autonomous"
COMPARED = ("status", "budgetAmount")


def amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def differences(assumed: Mapping[str, Any], observed: Mapping[str, Any]) -> list[str]:
    """The fields where the platform no longer matches what the action assumed, as
    `field: assumed → observed` (`campaigns.<id>.field` for a reallocation)."""
    if "campaigns" in assumed:
        found: list[str] = []
        campaigns = observed.get("campaigns") or {}
        for campaign_id, state in assumed["campaigns"].items():
            for problem in differences(state, campaigns.get(campaign_id) or {}):
                found.append(f"campaigns.{campaign_id}.{problem}")
        return found
    problems = []
    for key in COMPARED:
        if key not in assumed:
            continue
        before, now = assumed.get(key), observed.get(key)
        same = amount(before) == amount(now) if key == "budgetAmount" else before == now
        if not same:
            problems.append(f"{key}: {before} → {now}")
    return problems


def budget_change_ratio(previous: Mapping[str, Any], new: Mapping[str, Any]) -> Decimal:
    """The largest relative budget move of an action (0 when it moves no budget)."""
    if "campaigns" in new:
        before = previous.get("campaigns") or {}
        return max(
            (
                budget_change_ratio(before.get(cid) or {}, state)
                for cid, state in new["campaigns"].items()
            ),
            default=Decimal(0),
        )
    old, wanted = amount(previous.get("budgetAmount")), amount(new.get("budgetAmount"))
    if wanted is None:
        return Decimal(0)
    if not old:
        return Decimal(1)
    return abs(wanted - old) / old


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str


def autonomy(
    action_type: str,
    previous: Mapping[str, Any],
    new: Mapping[str, Any],
    confidence: Decimal | None,
    mode: AutonomousMode,
    executed_today: int,
) -> Verdict:
    """May the AI execute this action on its own? Every guardrail, with the reason it holds."""
    if mode.kill_switch:
        return Verdict(False, "the autonomous kill switch is on")
    if not mode.enabled:
        return Verdict(False, "autonomous mode is off")
    if action_type not in mode.action_types:
        return Verdict(False, f"{action_type} is not an autonomous action type")
    if confidence is None or confidence < mode.min_confidence:
        return Verdict(False, f"confidence {confidence} is below {mode.min_confidence}")
    if executed_today >= mode.max_actions_per_day:
        return Verdict(False, f"{executed_today} autonomous actions today reach the daily maximum")
    ratio = budget_change_ratio(previous, new)
    if ratio > mode.max_budget_change_ratio:
        limit = mode.max_budget_change_ratio * 100
        return Verdict(
            False, f"a {ratio * 100:.1f}% budget change exceeds the {limit:.1f}% guardrail"
        )
    return Verdict(True, "within the autonomous guardrails")


def revert_of(
    previous: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(assumed, wanted) of the action undoing one that moved a campaign from `previous` to
    `new` (as read back): it assumes the campaign is still as the change left it, and restores
    each field the change moved. A reverted PAUSE is a PAUSE-type action wanting `active`."""
    if "campaigns" in previous:
        after = new.get("campaigns") or {}
        pairs = [
            (cid, *revert_of(before, after.get(cid) or {}))
            for cid, before in previous["campaigns"].items()
        ]
        return (
            {"campaigns": {cid: assumed for cid, assumed, _ in pairs}},
            {"campaigns": {cid: wanted for cid, _, wanted in pairs if wanted}},
        )
    assumed = {k: new.get(k) for k in COMPARED if k in new}
    wanted = {
        k: previous.get(k)
        for k in COMPARED
        if k in previous and differences({k: previous.get(k)}, {k: new.get(k)})
    }
    return assumed, wanted
