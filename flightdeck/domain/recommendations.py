"""The analytics engine behind seed 004's recommendations: deterministic — the same campaigns and
series always give the same recommendations, with the same numbers, reasoning and confidence.

Over the last `evaluation_days` complete days of each active campaign:

    PAUSE_CAMPAIGN     spend ≥ the zero-conversions floor, clicks ≥ the minimum, no conversion
    INCREASE_BUDGET    ROAS ≥ target × (1 + margin), ≥ `min_conversions`, spending ≥ 80 % of a
                       daily budget (the budget holds it back): budget × (1 + step)
    DECREASE_BUDGET    ROAS ≤ target × (1 − margin) with ≥ `min_spend`: budget × (1 − step)
    REALLOCATE_BUDGET  per currency, across platforms: when the best platform's ROAS is
                       `reallocation_roas_factor` × the worst's, `reallocation_share` of the
                       worst platform's daily budgets moves to the best one's campaigns (in
                       proportion to their budgets) for the next `reallocation_period_days`

Confidence grows with the data volume: 0.50 + 0.45 × min(1, clicks / (10 × min_clicks)) ×
(days with spend / evaluation days), to two decimals. Each recommendation has a `change_key`
("the budget of campaign X"): never two pending for the same change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from flightdeck.domain.alerts import DayTotals, Window, window
from flightdeck.domain.performance_settings import AlertThresholds, RecommendationTargets

CENT = Decimal("0.01")
UTILISED = Decimal("0.8")


@dataclass(frozen=True)
class CampaignFacts:
    campaign_id: str
    name: str | None
    platform: str
    status: str
    budget_amount: Decimal | None
    budget_type: str | None
    currency: str | None
    rows: Sequence[DayTotals]

    @property
    def state(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "budgetAmount": None if self.budget_amount is None else str(self.budget_amount),
            "budgetType": self.budget_type,
        }


@dataclass(frozen=True)
class Allocation:
    period_start: date
    period_end: date
    currency: str
    total_budget: Decimal
    allocations: dict[str, Decimal]  # per platform, over the period
    details: dict[str, Any]


@dataclass(frozen=True)
class Recommendation:
    recommendation_type: str
    action_type: str
    campaign_id: str | None
    platform: str
    change_key: str
    previous_state: dict[str, Any]
    proposed_change: dict[str, Any]
    reasoning: str
    confidence: Decimal
    data: dict[str, Any]
    allocation: Allocation | None = field(default=None)


def recommend(
    campaigns: Iterable[CampaignFacts],
    today: date,
    targets: RecommendationTargets,
    thresholds: AlertThresholds,
) -> list[Recommendation]:
    facts = sorted((c for c in campaigns if c.status == "active"), key=lambda c: c.campaign_id)
    first = today - timedelta(days=targets.evaluation_days)
    last = today - timedelta(days=1)
    windows = {c.campaign_id: window(c.rows, first, last) for c in facts}
    found: list[Recommendation] = []
    for campaign in facts:
        totals = windows[campaign.campaign_id]
        pause = _pause(campaign, totals, targets, thresholds)
        if pause is not None:
            found.append(pause)
            continue
        budget = _budget(campaign, totals, targets, thresholds)
        if budget is not None:
            found.append(budget)
    paused = {r.campaign_id for r in found if r.action_type == "PAUSE"}
    found += _reallocations(
        [c for c in facts if c.campaign_id not in paused], windows, today, targets, thresholds
    )
    return found


def confidence(totals: Window, days: int, min_clicks: int) -> Decimal:
    volume = min(Decimal(1), Decimal(totals.clicks) / Decimal(max(1, 10 * min_clicks)))
    coverage = Decimal(min(totals.days, days)) / Decimal(days)
    return (Decimal("0.50") + Decimal("0.45") * volume * coverage).quantize(CENT, ROUND_HALF_EVEN)


def _pause(
    campaign: CampaignFacts,
    totals: Window,
    targets: RecommendationTargets,
    thresholds: AlertThresholds,
) -> Recommendation | None:
    floor = thresholds.zero_conversions_spend_floor
    if totals.conversions or totals.spend < floor or totals.clicks < thresholds.min_clicks:
        return None
    currency = campaign.currency or ""
    return Recommendation(
        recommendation_type="PAUSE_CAMPAIGN",
        action_type="PAUSE",
        campaign_id=campaign.campaign_id,
        platform=campaign.platform,
        change_key=f"PAUSE:{campaign.campaign_id}",
        previous_state=campaign.state,
        proposed_change={"status": "paused"},
        reasoning=(
            f"Pause {campaign.name or campaign.campaign_id}: it spent {_m(totals.spend)} "
            f"{currency} on {totals.clicks} clicks over the last {targets.evaluation_days} days "
            f"without a single conversion (pause floor {_m(floor)} {currency})."
        ),
        confidence=confidence(totals, targets.evaluation_days, thresholds.min_clicks),
        data={"window": totals.as_json(), "floor": str(floor), "days": targets.evaluation_days},
    )


def _budget(
    campaign: CampaignFacts,
    totals: Window,
    targets: RecommendationTargets,
    thresholds: AlertThresholds,
) -> Recommendation | None:
    budget = campaign.budget_amount
    roas = totals.roas
    if budget is None or not budget or roas is None or totals.spend < thresholds.min_spend:
        return None
    if totals.conversions < targets.min_conversions:
        return None
    high = targets.target_roas * (1 + targets.roas_margin_ratio)
    low = targets.target_roas * (1 - targets.roas_margin_ratio)
    per_day = totals.spend / max(1, totals.days)
    daily = campaign.budget_type != "lifetime"
    utilisation = per_day / budget if daily else Decimal(1)
    if roas >= high and utilisation >= UTILISED:
        kind, factor, verb = "INCREASE_BUDGET", 1 + targets.budget_step_ratio, "Raise"
    elif roas <= low:
        kind, factor, verb = "DECREASE_BUDGET", 1 - targets.budget_step_ratio, "Cut"
    else:
        return None
    new = (budget * factor).quantize(CENT, ROUND_HALF_EVEN)
    currency = campaign.currency or ""
    return Recommendation(
        recommendation_type=kind,
        action_type="BUDGET_CHANGE",
        campaign_id=campaign.campaign_id,
        platform=campaign.platform,
        change_key=f"BUDGET:{campaign.campaign_id}",
        previous_state=campaign.state,
        proposed_change={"budgetAmount": str(new)},
        reasoning=(
            f"{verb} the {campaign.budget_type or 'daily'} budget of "
            f"{campaign.name or campaign.campaign_id} from {_m(budget)} to {_m(new)} {currency}: "
            f"ROAS {_r(roas)} over the last {targets.evaluation_days} days against a target of "
            f"{_r(targets.target_roas)} ({totals.conversions} conversions, "
            f"{_m(totals.spend)} {currency} spent, {_pct(utilisation)} of the budget used)."
        ),
        confidence=confidence(totals, targets.evaluation_days, thresholds.min_clicks),
        data={
            "window": totals.as_json(),
            "targetRoas": str(targets.target_roas),
            "budgetUtilisation": str(utilisation.quantize(Decimal("0.0001"))),
            "from": str(budget),
            "to": str(new),
        },
    )


def _reallocations(
    campaigns: list[CampaignFacts],
    windows: dict[str, Window],
    today: date,
    targets: RecommendationTargets,
    thresholds: AlertThresholds,
) -> list[Recommendation]:
    found = []
    by_currency: dict[str, list[CampaignFacts]] = {}
    for c in campaigns:
        if c.budget_amount and c.budget_type == "daily" and c.currency:
            by_currency.setdefault(c.currency, []).append(c)
    for currency, group in sorted(by_currency.items()):
        recommendation = _reallocate(currency, group, windows, today, targets, thresholds)
        if recommendation is not None:
            found.append(recommendation)
    return found


def _reallocate(
    currency: str,
    campaigns: list[CampaignFacts],
    windows: dict[str, Window],
    today: date,
    targets: RecommendationTargets,
    thresholds: AlertThresholds,
) -> Recommendation | None:
    platforms: dict[str, list[CampaignFacts]] = {}
    for c in campaigns:
        platforms.setdefault(c.platform, []).append(c)
    totals = {p: _merge(windows[c.campaign_id] for c in cs) for p, cs in platforms.items()}
    eligible = {
        p: t
        for p, t in totals.items()
        if t.spend >= thresholds.min_spend and t.conversions >= targets.min_conversions and t.roas
    }
    if len(eligible) < 2:
        return None
    ranked = sorted(eligible, key=lambda p: (eligible[p].roas or Decimal(0), p))
    worst, best = ranked[0], ranked[-1]
    worst_roas, best_roas = eligible[worst].roas or Decimal(0), eligible[best].roas or Decimal(0)
    if best_roas < worst_roas * targets.reallocation_roas_factor:
        return None
    losers, winners = platforms[worst], platforms[best]
    moved = (
        sum((c.budget_amount or Decimal(0) for c in losers), Decimal(0))
        * targets.reallocation_share
    ).quantize(CENT, ROUND_HALF_EVEN)
    if moved <= 0:
        return None
    cuts = _spread(moved, losers)
    adds = _spread(moved, winners)
    new = {c.campaign_id: (c.budget_amount or Decimal(0)) - cuts[c.campaign_id] for c in losers}
    new |= {c.campaign_id: (c.budget_amount or Decimal(0)) + adds[c.campaign_id] for c in winners}
    involved = losers + winners
    days = targets.reallocation_period_days
    start = today + timedelta(days=1)
    daily = {p: sum((new.get(c.campaign_id, c.budget_amount or Decimal(0)) for c in cs), Decimal(0))
             for p, cs in platforms.items() if p in (worst, best)}  # fmt: skip
    allocation = Allocation(
        period_start=start,
        period_end=start + timedelta(days=days - 1),
        currency=currency,
        total_budget=sum(daily.values(), Decimal(0)) * days,
        allocations={p: amount * days for p, amount in sorted(daily.items())},
        details={
            "campaigns": {
                c.campaign_id: {
                    "platform": c.platform,
                    "from": str(c.budget_amount),
                    "to": str(new[c.campaign_id]),
                }
                for c in involved
            }
        },
    )
    reference = min(
        confidence(eligible[worst], targets.evaluation_days, thresholds.min_clicks),
        confidence(eligible[best], targets.evaluation_days, thresholds.min_clicks),
    )
    return Recommendation(
        recommendation_type="REALLOCATE_BUDGET",
        action_type="REALLOCATE",
        campaign_id=None,
        platform="multi",
        change_key=f"REALLOCATE:{currency}:{'+'.join(sorted((worst, best)))}",
        previous_state={"campaigns": {c.campaign_id: c.state for c in involved}},
        proposed_change={
            "campaigns": {cid: {"budgetAmount": str(amount)} for cid, amount in sorted(new.items())}
        },
        reasoning=(
            f"Move {_m(moved)} {currency} a day from {worst} (ROAS {_r(worst_roas)}) to {best} "
            f"(ROAS {_r(best_roas)}) for {start} to {allocation.period_end}: {best} returns "
            f"{_r(best_roas / worst_roas)}x as much per {currency} over the last "
            f"{targets.evaluation_days} days."
        ),
        confidence=reference,
        data={
            "platforms": {p: eligible[p].as_json() for p in (worst, best)},
            "moved": str(moved),
            "factor": str(targets.reallocation_roas_factor),
        },
        allocation=allocation,
    )


def _spread(total: Decimal, campaigns: list[CampaignFacts]) -> dict[str, Decimal]:
    """`total` over the campaigns in proportion to their budgets, in whole cents summing to it."""
    cents = int(total / CENT)
    weights = [int((c.budget_amount or Decimal(0)) / CENT) for c in campaigns]
    whole = sum(weights) or len(weights)
    weights = weights if sum(weights) else [1] * len(weights)
    parts = [cents * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(cents * weights[i] % whole), i))
    for index in order[: cents - sum(parts)]:
        parts[index] += 1
    return {c.campaign_id: Decimal(p) * CENT for c, p in zip(campaigns, parts, strict=True)}


def _merge(windows: Iterable[Window]) -> Window:
    items = list(windows)
    return Window(
        days=max((w.days for w in items), default=0),
        clicks=sum(w.clicks for w in items),
        spend=sum((w.spend for w in items), Decimal(0)),
        conversions=sum(w.conversions for w in items),
        revenue=sum((w.revenue for w in items), Decimal(0)),
    )


def _m(value: Decimal) -> str:
    return str(value.quantize(CENT, ROUND_HALF_EVEN))


def _r(value: Decimal) -> str:
    return str(value.quantize(CENT, ROUND_HALF_EVEN))


def _pct(ratio: Decimal) -> str:
    return f"{(ratio * 100).quantize(Decimal('1'), ROUND_HALF_EVEN)}%"
