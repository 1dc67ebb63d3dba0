"""Reddit's rules for a whole campaign set, checked before anything is sent: every problem at
once, each with the field path it belongs to (reddit-ads-api.md §3, the v3 spec's field
descriptions, and what `reddit_payloads` cannot express).

The payload builders are the single source of what Reddit can take: each entity's create (or,
once on Reddit, its patch against what was last pushed) is built here exactly as the sync
builds it, and whatever it refuses is a problem. The rules the builders leave to Reddit's own
400s are checked on top: budget-optimization requirements, bids, schedules, limits.

Marked ASSUMED where the contract says nothing and the rule is ours.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from flightdeck.domain import reddit_payloads as payloads
from flightdeck.domain import reddit_vocabulary as vocab
from flightdeck.domain.campaign_sets import AdGroupSpec, CampaignSpec
from flightdeck.domain.currency import precision_problem
from flightdeck.domain.set_validation import (
    AdGroupNode,
    AdNode,
    CampaignNode,
    Problem,
    SetTree,
    account_problems,
    unique,
)

MAX_KEYWORDS = 1000  # targeting.keywords (≤1000)
MAX_EXCLUDED_KEYWORDS = 2000  # targeting.excluded_keywords (≤2000)
NAME_LENGTH = (3, 500)  # "name (3–500 characters)"
CLICK_URL_LENGTH = 5000  # "click_url (≤5000 characters)"
# ASSUMED: CPV billing (a paid view) only exists for video objectives.
CPV_OBJECTIVES = frozenset({"video_views"})


def validate_reddit_set(tree: SetTree, now: datetime | None = None) -> list[Problem]:
    moment = now or datetime.now(UTC)
    problems = account_problems(tree)
    creates_ads = any(
        ad.platform_id is None and not ad.deleted
        for c in tree.campaigns
        for g in c.ad_groups
        for ad in g.ads
    )
    if creates_ads and tree.account is not None and not tree.account.profile_id:
        problems.append(
            Problem("adAccountId", "the Reddit account has no profile to own the ads' posts")
        )
    for campaign in (c for c in tree.campaigns if not c.deleted):
        problems += _campaign(campaign, moment)
        for group in (g for g in campaign.ad_groups if not g.deleted):
            problems += _ad_group(campaign, group, moment)
            for ad in (a for a in group.ads if not a.deleted):
                problems += _ad(ad)
    return unique(problems)


# -- campaigns ----------------------------------------------------------------------------


def _campaign(node: CampaignNode, now: datetime) -> list[Problem]:
    spec = node.spec
    out = _Out(node.path, "campaign", node.id)
    if node.platform_id is None:
        out.built(lambda: payloads.campaign_create(spec))
    else:
        out.built(lambda: payloads.campaign_patch(spec, node.base))
    out.name(spec.name)
    if spec.budget is not None:
        out.money("budget.amount", spec.budget.amount, spec.budget.currency)
    if spec.budget_optimization:
        if spec.start_time is None:
            out.add("startTime", "is required under budget optimization (Reddit's CBO)")
        if spec.budget is not None and spec.budget.type == "lifetime" and spec.end_time is None:
            out.add("endTime", "is required with a lifetime budget")
    _schedule(out, spec.start_time, spec.end_time, now, node.platform_id is None)
    return out.problems


# -- ad groups ----------------------------------------------------------------------------


def _ad_group(campaign: CampaignNode, node: AdGroupNode, now: datetime) -> list[Problem]:
    spec, parent = node.spec, campaign.spec
    out = _Out(node.path, "ad_group", node.id)
    if node.platform_id is None:
        out.built(lambda: payloads.ad_group_create("pending", parent, spec))
    else:
        out.built(lambda: payloads.ad_group_patch(parent, spec, node.base))
    out.name(spec.name)
    currency = _currency(parent, spec)
    if spec.budget is not None:
        out.money("budget.amount", spec.budget.amount, spec.budget.currency)
    if spec.bid_amount is not None:
        out.money("bidAmount", spec.bid_amount, currency)
    if parent.budget_optimization:
        _under_cbo(out, spec)
    else:
        _own_money(out, parent, spec)
    if spec.end_time is not None and spec.start_time is None:
        out.add("startTime", "is required when endTime is set")
    if spec.budget is not None and spec.budget.type == "lifetime" and spec.end_time is None:
        out.add("endTime", "is required with a lifetime budget")
    _schedule(out, spec.start_time, spec.end_time, now, node.platform_id is None)
    live = [k for k in spec.keywords if k.status not in payloads.INACTIVE_KEYWORD_STATUSES]
    if (count := sum(1 for k in live if not k.negative)) > MAX_KEYWORDS:
        out.add("keywords", f"{count} keywords; Reddit takes at most {MAX_KEYWORDS}")
    if (count := sum(1 for k in live if k.negative)) > MAX_EXCLUDED_KEYWORDS:
        out.add(
            "keywords",
            f"{count} negative keywords; Reddit takes at most {MAX_EXCLUDED_KEYWORDS}",
        )
    devices = spec.targeting.devices
    if parent.objective == "app_installs" and devices and "MOBILE" not in devices:
        out.add("targeting.devices", "an app-install campaign must target MOBILE")
    return out.problems


def _under_cbo(out: _Out, spec: AdGroupSpec) -> None:
    """Budget optimization: the campaign's budget and bidding apply to its ad groups."""
    if spec.budget is not None:
        out.add("budget", "must be empty: the campaign uses budget optimization")
    if spec.bid_strategy != "automatic":
        out.add(
            "bidStrategy",
            "must be automatic: the campaign uses budget optimization (no manual bids)",
        )
    if spec.bid_amount is not None:
        out.add("bidAmount", "must be empty: the campaign uses budget optimization")


def _own_money(out: _Out, campaign: CampaignSpec, spec: AdGroupSpec) -> None:
    if spec.budget is None:
        out.add("budget", "is required unless the campaign uses budget optimization")
    if spec.bid_strategy in vocab.BIDS_NEEDING_AMOUNT and spec.bid_amount is None:
        out.add("bidAmount", f"is required with bid strategy {spec.bid_strategy}")
    if spec.bid_strategy == "manual_cpv" and campaign.objective not in CPV_OBJECTIVES:
        out.add(
            "bidStrategy",
            f"manual_cpv bills per video view: use it with a video_views campaign, "
            f"not {campaign.objective}",
        )
    bid_type = vocab.BID_STRATEGIES[spec.bid_strategy][1] or vocab.DEFAULT_BID_TYPES.get(
        vocab.OBJECTIVES[campaign.objective], ""
    )
    low, high = (vocab.from_micros(m) for m in vocab.CPM_BID_RANGE_MICROS)
    if bid_type == "CPM" and spec.bid_amount is not None and not low <= spec.bid_amount <= high:
        out.add("bidAmount", f"a CPM bid must be between {low} and {high}")
    # ASSUMED: a daily budget below one bid can never buy anything.
    if (
        spec.budget is not None
        and spec.budget.type == "daily"
        and spec.bid_amount is not None
        and spec.budget.amount < spec.bid_amount
    ):
        out.add("budget.amount", f"is below the bid ({spec.bid_amount}): nothing would deliver")


# -- ads ----------------------------------------------------------------------------------


def _ad(node: AdNode) -> list[Problem]:
    spec = node.spec
    out = _Out(node.path, "ad", node.id)
    if node.platform_id is None:
        out.built(lambda: payloads.post_create(spec))
        out.built(lambda: payloads.ad_create("pending", "pending", spec))
    else:
        out.built(lambda: payloads.ad_patch(spec, node.base))
    out.name(spec.name)
    if len(spec.final_url) > CLICK_URL_LENGTH:
        out.add("finalUrl", f"is longer than {CLICK_URL_LENGTH} characters")
    return out.problems


# -- helpers ------------------------------------------------------------------------------


def _schedule(
    out: _Out, start: datetime | None, end: datetime | None, now: datetime, new: bool
) -> None:
    if start is not None and end is not None and _aware(end) <= _aware(start):
        out.add("endTime", "must be after startTime")
    if new and end is not None and _aware(end) <= now:
        out.add("endTime", "is in the past")


def _currency(campaign: CampaignSpec, spec: AdGroupSpec) -> str:
    for budget in (spec.budget, campaign.budget):
        if budget is not None:
            return budget.currency
    return "USD"  # ASSUMED: a bid with no budget anywhere to name its currency


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Out:
    """Problems of one entity, each under its path."""

    def __init__(self, path: str, entity_type: str, entity_id: str) -> None:
        self.path, self.entity_type, self.entity_id = path, entity_type, entity_id
        self.problems: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        path = f"{self.path}.{field}"
        if any(p.field == path for p in self.problems):
            return  # one problem per field: the first (the payload builder's) says it
        self.problems.append(Problem(path, message, self.entity_type, self.entity_id))

    def built(self, build: Callable[[], object]) -> None:
        try:
            build()
        except payloads.RedditPayloadError as exc:
            self.add(exc.field, exc.reason)
        except ValueError as exc:
            self.add("data", str(exc))

    def name(self, name: str) -> None:
        low, high = NAME_LENGTH
        if not low <= len(name) <= high:
            self.add("name", f"must be {low}–{high} characters")

    def money(self, field: str, amount: Decimal, currency: str) -> None:
        if (problem := precision_problem(amount, currency)) is not None:
            self.add(field, problem)
