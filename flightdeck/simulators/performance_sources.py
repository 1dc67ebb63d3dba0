"""What a simulated campaign's delivery follows: whether it runs and its daily budget, read from
the platform's own objects (`performance.py` keeps the timeline).

- Facebook (Graph and the relay share the store): the campaign runs while it is ACTIVE and, if
  it has ad sets, at least one of them is ACTIVE; its budget is its own `daily_budget` (CBO),
  else the sum of its active ad sets' (ABO); a lifetime budget counts per day of its schedule
  (30 days without an end). Budgets are integers in the account currency's minor unit.
- Reddit: the campaign runs while its effective status is ACTIVE; its budget is `goal_value`
  (micros) under budget optimization, else the sum of its active ad groups' (DAILY_SPEND; a
  LIFETIME_SPEND counts per day of the schedule, 30 without an end).
- Google Ads: the campaign (keyed by its resource name) runs while it and its customer are
  ENABLED; its budget is its CampaignBudget's `amountMicros` (DAILY), or `totalAmountMicros`
  per day of its schedule (CUSTOM_PERIOD). Micros of the customer's currency.

Called on every create and update of campaigns and ad sets / ad groups, and for a whole
account before it is reported on (which catches edits made through `/_sim/state`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flightdeck.domain.meta_rules import minor_units

if TYPE_CHECKING:
    from flightdeck.simulators.state import SimulatorState

MICROS = 1_000_000
DEFAULT_LIFETIME_DAYS = 30


def facebook_changed(state: SimulatorState, kind: str, obj: dict[str, Any]) -> None:
    campaign_id = obj.get("id") if kind == "campaigns" else obj.get("campaign_id")
    if kind not in ("campaigns", "adsets") or campaign_id is None:
        return
    campaign = state.store("facebook", "campaigns").get(str(campaign_id))
    if campaign is not None:
        observe_facebook(state, campaign)


def observe_facebook(state: SimulatorState, campaign: dict[str, Any]) -> None:
    adsets = [
        a
        for a in state.store("facebook", "adsets").values()
        if a.get("campaign_id") == campaign["id"]
    ]
    live = [a for a in adsets if a.get("status") == "ACTIVE"]
    active = campaign.get("status") == "ACTIVE" and (not adsets or bool(live))
    minor = _daily(campaign, "daily_budget", "lifetime_budget", "start_time", "stop_time")
    if minor is None:
        minor = sum(
            _daily(a, "daily_budget", "lifetime_budget", "start_time", "end_time") or 0
            for a in live
        )
    currency = facebook_currency(state, str(campaign.get("account_id", "")))
    micros = minor * MICROS // minor_units(currency)
    state.performance.observe("meta", str(campaign["id"]), active, micros)


def facebook_currency(state: SimulatorState, account_id: str) -> str:
    account = state.objects["meta"]["adaccounts"].get(f"act_{account_id}")
    return str(account["currency"]) if account else "USD"


def facebook_timezone(state: SimulatorState, account_id: str) -> str:
    account = state.objects["meta"]["adaccounts"].get(f"act_{account_id}")
    return str(account.get("timezone_name") or "UTC") if account else "UTC"


def reddit_changed(state: SimulatorState, kind: str, obj: dict[str, Any]) -> None:
    campaign_id = obj.get("id") if kind == "campaigns" else obj.get("campaign_id")
    if kind not in ("campaigns", "ad_groups") or campaign_id is None:
        return
    campaign = state.store("reddit", "campaigns").get(str(campaign_id))
    if campaign is not None:
        observe_reddit(state, campaign)


def observe_reddit(state: SimulatorState, campaign: dict[str, Any]) -> None:
    from flightdeck.simulators.reddit_objects import RedditObjects

    objects = RedditObjects(state, str(campaign["ad_account_id"]))
    active = objects.effective_status("campaigns", campaign) == "ACTIVE"
    if campaign.get("is_campaign_budget_optimization"):
        micros = _reddit_daily(campaign)
    else:
        micros = sum(
            _reddit_daily(group)
            for group in state.store("reddit", "ad_groups").values()
            if group.get("campaign_id") == campaign["id"]
            and objects.effective_status("ad_groups", group) == "ACTIVE"
        )
    state.performance.observe("reddit", str(campaign["id"]), active, micros)


def google_changed(state: SimulatorState, events: list[dict[str, Any]]) -> None:
    """After a committed mutate or UI edit: every campaign it touched (or whose budget it
    touched) observed again, from its change events."""
    objects = state.objects["google"]
    names: set[str] = set()
    for event in events:
        kind, name = event.get("changeResourceType"), str(event.get("changeResourceName", ""))
        if kind == "CAMPAIGN":
            names.add(name)
        elif kind == "CAMPAIGN_BUDGET":
            names.update(n for n, c in objects["campaigns"].items() if c["campaignBudget"] == name)
    for name in names:
        campaign = objects["campaigns"].get(name)
        if campaign is not None:
            observe_google(state, campaign)


def observe_google(state: SimulatorState, campaign: dict[str, Any]) -> None:
    objects = state.objects["google"]
    customer_id = str(campaign["resourceName"]).split("/")[1]
    customer = objects["customers"].get(customer_id, {})
    active = campaign.get("status") == "ENABLED" and customer.get("status") == "ENABLED"
    budget = objects["campaignBudgets"].get(campaign.get("campaignBudget") or "", {})
    micros = 0
    if budget.get("period", "DAILY") == "DAILY" and budget.get("amountMicros") is not None:
        micros = int(budget["amountMicros"])
    elif budget.get("totalAmountMicros") is not None:
        days = _schedule_days(
            _google_time(campaign.get("startDateTime")), _google_time(campaign.get("endDateTime"))
        )
        micros = int(budget["totalAmountMicros"]) // days
    state.performance.observe("google", str(campaign["resourceName"]), active, micros)


def google_timezone(state: SimulatorState, customer_id: str) -> str:
    customer = state.objects["google"]["customers"].get(customer_id, {})
    return str(customer.get("timeZone") or "UTC")


def _google_time(value: Any) -> str | None:
    """`yyyy-MM-dd HH:mm:ss` (or a bare date) as ISO."""
    return str(value).replace(" ", "T") if value else None


def _daily(obj: dict[str, Any], daily: str, lifetime: str, start: str, end: str) -> int | None:
    if obj.get(daily) is not None:
        return int(obj[daily])
    if obj.get(lifetime) is not None:
        return int(obj[lifetime]) // _schedule_days(obj.get(start), obj.get(end))
    return None


def _reddit_daily(obj: dict[str, Any]) -> int:
    value = obj.get("goal_value")
    if not isinstance(value, int):
        return 0
    if obj.get("goal_type") == "LIFETIME_SPEND":
        return value // _schedule_days(obj.get("start_time"), obj.get("end_time"))
    return value


def _schedule_days(start: Any, end: Any) -> int:
    try:
        first = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        last = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        return DEFAULT_LIFETIME_DAYS
    return max(1, round((last - first).total_seconds() / 86_400))
