"""Sync-back (seed 002 phase 6): what a platform reports about our campaigns and ad groups, in
our vocabulary, and the three-way comparison of base (last pushed), local and platform.

Pure: no I/O. A `PlatformPoller` fills the `Platform*State`s; the sync-back job builds the
three field dicts with `snapshot_fields`, `spec_fields` and `platform_state_fields`, and acts
on each field's outcome. Local is the source of truth: a field only the platform changed is
taken locally, one only we changed waits for the next push, one both changed differently is a
conflict for a person to resolve.

The status rule. Only a status *setting* (what someone can switch: active, paused, archived,
deleted; Reddit's `configured_status`) is compared, never an outcome the platform reports
(completed, pending, error; Reddit's `effective_status`):
- a platform outcome means the setting is active (Reddit reports one only for an ACTIVE
  object), so a campaign that completes or awaits approval is not a change;
- locally, draft and pending are pushed as paused, so they compare as paused;
- a local completed or error claims no setting (a push leaves the platform's alone): as the
  local value it is "unchanged"; as the base it means we never set one, so what the platform
  shows cannot be told apart from a change and is not taken.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from flightdeck.domain import reddit_vocabulary as vocab
from flightdeck.domain.campaign_sets import AdGroupSpec, AdSpec, Budget, CampaignSpec

CompareEntityType = Literal["campaign", "ad_group", "ad"]
Outcome = Literal["unchanged", "platform_only", "local_only", "both_same", "merged", "conflict"]

# The fields sync-back compares, per entity: every field a push sends (reddit_payloads'
# PATCH fields, in our words). What Reddit fixes at creation (objective, optimization goal, a
# post's copy) cannot change on the platform and is not compared.
TARGETING_LISTS: tuple[str, ...] = ("communities", "interests", "geolocations", "devices")
# Compared as sets, merged three ways: an addition on one side and a removal on the other
# both stand, so only whole-value conflicts remain for scalars.
SET_FIELDS = frozenset({*TARGETING_LISTS, "keywords", "excluded_keywords"})
# Every platform's poller reports its entities with these field names (normalised alike);
# a platform compares only the fields it can see (`PlatformSnapshot.fields`): what it cannot
# see (Google's ad-group budgets, Meta's keywords, Reddit's fixed post copy) is not compared,
# so it can never read as cleared there.
COMPARED_FIELDS: dict[str, tuple[str, ...]] = {
    "campaign": ("name", "status", "budget", "start_time", "end_time"),
    "ad_group": (
        "name",
        "status",
        "budget",
        "bid_strategy",
        "bid_amount",
        "start_time",
        "end_time",
        *TARGETING_LISTS,
        "keywords",
        "excluded_keywords",
    ),
    "ad": ("name", "status", "final_url", "headline", "description"),
}
# What Reddit's poller reports, and the default of a snapshot that names none: an ad's copy
# lives on its post, fixed at creation.
REDDIT_FIELDS: dict[str, tuple[str, ...]] = {
    **COMPARED_FIELDS,
    "ad": ("name", "status", "final_url"),
}
# Ad copy, compared line by line (blank lines and surrounding spaces are not pushed).
LINE_FIELDS = frozenset({"headline", "description"})
TIME_FIELDS = frozenset({"start_time", "end_time"})
# Our status -> the setting a push makes of it (None: it claims none).
SPEC_STATUS_SETTINGS: dict[str, str | None] = {
    "draft": "paused",
    "pending": "paused",
    "active": "active",
    "paused": "paused",
    "archived": "archived",
    "deleted": "deleted",
    "completed": None,
    "error": None,
}
# A platform status (ours, from `status_from_reddit`) -> the setting behind it.
PLATFORM_STATUS_SETTINGS: dict[str, str] = {
    "active": "active",
    "completed": "active",
    "pending": "active",
    "error": "active",
    "paused": "paused",
    "archived": "archived",
    "deleted": "deleted",
}
TAKEN_OUTCOMES = frozenset({"platform_only", "both_same", "merged"})
# Reddit's (bid_strategy, bid_type) -> ours; a strategy whose bid type does not matter has None.
BID_STRATEGIES_FROM_REDDIT: dict[tuple[str, str | None], str] = {
    (reddit, bid_type): ours for ours, (reddit, bid_type) in vocab.BID_STRATEGIES.items()
}
# Keywords a push leaves out of the targeting (reddit_payloads.INACTIVE_KEYWORD_STATUSES).
INACTIVE_KEYWORD_STATUSES = frozenset({"paused", "archived", "deleted"})


# -- what the platform reports ------------------------------------------------------------------


# Every state's `edited_outside`: None when the platform does not say who changes its
# objects (Reddit, Meta); False when its change history (Google's change_event, 30 days) shows
# changes by Flightdeck alone, so a difference from the base is a push of ours whose record
# was lost, not an outside edit, and the cycle neither takes nor disputes it (the next push
# settles it); True when someone else changed it.


class PlatformCampaignState(BaseModel):
    """A campaign as the platform has it. `budget` is the optimized (CBO) budget; a lifetime
    `spend_cap` is how a non-optimized campaign's lifetime budget is pushed."""

    platform_id: str
    name: str
    status: str  # ours: active, paused, archived, deleted, completed, pending, error
    budget: Budget | None = None
    spend_cap: Decimal | None = None
    budget_optimization: bool = False
    start_time: str | None = None  # ISO 8601 as the platform has it
    end_time: str | None = None
    modified_at: datetime | None = None
    deleted: bool = False
    # Who changed it (see above).
    edited_outside: bool | None = None


class PlatformAdGroupState(BaseModel):
    platform_id: str
    campaign_platform_id: str
    name: str
    status: str
    budget: Budget | None = None
    bid_strategy: str | None = None  # ours (automatic, manual_cpc, …)
    bid_amount: Decimal | None = None
    start_time: str | None = None
    end_time: str | None = None
    # Our targeting lists and keywords (None: the platform reported no targeting).
    targeting: dict[str, list[str]] | None = None
    modified_at: datetime | None = None
    deleted: bool = False
    # Who changed it (see above).
    edited_outside: bool | None = None


class PlatformAdState(BaseModel):
    platform_id: str
    ad_group_platform_id: str
    campaign_platform_id: str | None = None
    name: str
    status: str
    click_url: str | None = None
    headline: str | None = None  # its copy, one line each, where the platform has it
    description: str | None = None
    modified_at: datetime | None = None
    deleted: bool = False
    # Who changed it (see above).
    edited_outside: bool | None = None


class PlatformSnapshot(BaseModel):
    """Every campaign and ad group of one account, by platform id, and the HTTP requests it
    took. `ads` is None when they were not fetched (never read that as "no ads"). An id the
    listing lacks is for the caller to judge: the platform lists deleted objects too."""

    campaigns: dict[str, PlatformCampaignState] = Field(default_factory=dict)
    ad_groups: dict[str, PlatformAdGroupState] = Field(default_factory=dict)
    ads: dict[str, PlatformAdState] | None = None
    calls: int = 0
    # The compared fields this platform reports, per entity type (None: `REDDIT_FIELDS`).
    fields: dict[str, tuple[str, ...]] | None = None
    # Set when the listing holds only what changed after this time (Meta's `filtering` on
    # updated_time): an id it lacks is unchanged, not gone.
    since: datetime | None = None

    def reported(self, entity_type: str) -> tuple[str, ...]:
        return (self.fields or REDDIT_FIELDS)[entity_type]


# -- the comparison -----------------------------------------------------------------------------


class FieldComparison(BaseModel):
    """One field's outcome, with the normalised values compared (status: the setting)."""

    field: str
    outcome: Outcome
    base: Any = None
    local: Any = None
    platform: Any = None
    merged: Any = None  # a set changed on both sides: local + the platform's changes


class Comparison(BaseModel):
    entity_type: CompareEntityType
    fields: dict[str, FieldComparison]

    def outcome(self, field: str) -> Outcome:
        return self.fields[field].outcome

    @property
    def conflicts(self) -> list[FieldComparison]:
        return [f for f in self.fields.values() if f.outcome == "conflict"]

    @property
    def has_conflict(self) -> bool:
        return bool(self.conflicts)

    @property
    def platform_values(self) -> dict[str, Any]:
        """The value of every field to take locally (platform_only, both_same, merged): the
        platform's, or for a set both sides changed, the local set with the platform's
        additions and removals applied. A budget is `{type, amount}`: keep the local currency;
        a status is a setting."""
        return {
            name: f.merged if f.outcome == "merged" else f.platform
            for name, f in self.fields.items()
            if f.outcome in TAKEN_OUTCOMES
        }

    @property
    def base_values(self) -> dict[str, Any]:
        """What the base (the snapshot of the last push) becomes for the taken fields: the
        platform's value, so the next push sends only what changed locally."""
        return {name: f.platform for name, f in self.fields.items() if f.outcome in TAKEN_OUTCOMES}

    @property
    def platform_changed(self) -> bool:
        return any(f.outcome in (*TAKEN_OUTCOMES, "conflict") for f in self.fields.values())

    @property
    def local_only(self) -> list[str]:
        """Fields the next push sends."""
        return [name for name, f in self.fields.items() if f.outcome == "local_only"]


def compare(
    entity_type: CompareEntityType,
    base: Mapping[str, Any],
    local: Mapping[str, Any],
    platform: Mapping[str, Any],
    fields: tuple[str, ...] | None = None,
) -> Comparison:
    """Each compared field's outcome (`fields`: those the platform reports; None: Reddit's).
    `base` is what was last pushed (the synced snapshot): without one there is nothing to
    tell a platform change from ours by."""
    names = fields if fields is not None else REDDIT_FIELDS[entity_type]
    return compare_normalised(
        entity_type,
        normalise(entity_type, "spec", base, names),
        normalise(entity_type, "spec", local, names),
        normalise(entity_type, "platform", platform, names),
    )


def normalise(
    entity_type: CompareEntityType,
    side: str,
    values: Mapping[str, Any],
    fields: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The compared fields of one side (`fields`, default all), in the one shape
    `compare_normalised` takes; a platform side names only the fields it reports."""
    names = fields if fields is not None else COMPARED_FIELDS[entity_type]
    return {name: _normalise(name, side, values.get(name)) for name in names}


def compare_normalised(
    entity_type: CompareEntityType,
    base: Mapping[str, Any],
    local: Mapping[str, Any],
    platform: Mapping[str, Any],
) -> Comparison:
    fields = {}
    for name in _reported(entity_type, platform):
        b, loc, p = base.get(name), local.get(name), platform.get(name)
        outcome = _outcome(name, b, loc, p)
        merged = _merge(b, loc, p) if outcome == "merged" else None
        fields[name] = FieldComparison(
            field=name, outcome=outcome, base=b, local=loc, platform=p, merged=merged
        )
    return Comparison(entity_type=entity_type, fields=fields)


def platform_differs(
    entity_type: CompareEntityType, base: Mapping[str, Any], platform: Mapping[str, Any]
) -> bool:
    """Whether the platform changed anything since the base (normalised sides): when not,
    there is nothing to take or dispute and the local side need not be read."""
    for name in _reported(entity_type, platform):
        b, p = base.get(name), platform.get(name)
        if b != p and not (name == "status" and b is None):
            return True
    return False


def _reported(entity_type: CompareEntityType, platform: Mapping[str, Any]) -> list[str]:
    """The fields compared: those the platform side carries (see `platform_state_fields`)."""
    return [name for name in COMPARED_FIELDS[entity_type] if name in platform]


def spec_fields(spec: CampaignSpec | AdGroupSpec | AdSpec) -> dict[str, Any]:
    """The compared fields of a spec, as a push would put them on the platform: a bid amount
    only where the bid strategy bids a price (automatic bidding sends none)."""
    fields: dict[str, Any] = {"name": spec.name, "status": spec.status}
    if isinstance(spec, CampaignSpec):
        fields["budget"] = spec.budget
        # Reddit takes a campaign start only under budget optimization.
        fields["start_time"] = spec.start_time if spec.budget_optimization else None
        fields["end_time"] = spec.end_time
    elif isinstance(spec, AdGroupSpec):
        fields["budget"] = spec.budget
        fields["bid_strategy"] = spec.bid_strategy
        bids_a_price = spec.bid_strategy in vocab.BIDS_NEEDING_AMOUNT
        fields["bid_amount"] = spec.bid_amount if bids_a_price else None
        fields["start_time"] = spec.start_time
        fields["end_time"] = spec.end_time
        targeting = spec.targeting
        for name in TARGETING_LISTS:
            fields[name] = list(getattr(targeting, name))
        live = [k for k in spec.keywords if k.status not in INACTIVE_KEYWORD_STATUSES]
        fields["keywords"] = [k.text for k in live if not k.negative]
        fields["excluded_keywords"] = [k.text for k in live if k.negative]
    else:
        fields["final_url"] = spec.final_url
        fields["headline"] = spec.headline
        fields["description"] = spec.description
    return fields


def snapshot_fields(entity_type: CompareEntityType, snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """`spec_fields` of a synced snapshot (`Spec.model_dump(mode="json")`)."""
    spec_types: dict[str, type[CampaignSpec | AdGroupSpec | AdSpec]] = {
        "campaign": CampaignSpec,
        "ad_group": AdGroupSpec,
        "ad": AdSpec,
    }
    return spec_fields(spec_types[entity_type].model_validate(snapshot))


def platform_state_fields(
    state: PlatformCampaignState | PlatformAdGroupState | PlatformAdState,
    reported: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The compared fields of a platform state: those the platform reports (`reported`, from
    `PlatformSnapshot.reported`; None: Reddit's), and only those are compared. A campaign
    without an optimized budget reads its lifetime spend cap as its budget: that is how a
    lifetime campaign budget is pushed."""
    fields: dict[str, Any] = {"name": state.name, "status": state.status}
    if isinstance(state, PlatformCampaignState):
        fields["budget"] = state.budget or _lifetime(state.spend_cap)
        fields["start_time"] = state.start_time if state.budget_optimization else None
        fields["end_time"] = state.end_time
    elif isinstance(state, PlatformAdGroupState):
        fields["budget"] = state.budget
        fields["bid_strategy"] = state.bid_strategy
        fields["bid_amount"] = state.bid_amount
        fields["start_time"] = state.start_time
        fields["end_time"] = state.end_time
        targeting = state.targeting or {}
        for name in (*TARGETING_LISTS, "keywords", "excluded_keywords"):
            fields[name] = targeting.get(name, [])
    else:
        fields["final_url"] = state.click_url
        fields["headline"] = state.headline
        fields["description"] = state.description
    kind: CompareEntityType = (
        "campaign"
        if isinstance(state, PlatformCampaignState)
        else "ad_group"
        if isinstance(state, PlatformAdGroupState)
        else "ad"
    )
    keep = reported if reported is not None else REDDIT_FIELDS[kind]
    return {name: value for name, value in fields.items() if name in keep}


def reddit_bid_strategy(bid_strategy: str | None, bid_type: str | None) -> str | None:
    """Reddit's bidding as our bid strategy (None when the object has none)."""
    if not bid_strategy:
        return None
    found = BID_STRATEGIES_FROM_REDDIT.get((bid_strategy, bid_type)) or (
        BID_STRATEGIES_FROM_REDDIT.get((bid_strategy, None))
    )
    return found or f"{bid_strategy}:{bid_type}".lower()  # shown, never taken


# -- normalisation ------------------------------------------------------------------------------


def _outcome(field: str, base: Any, local: Any, platform: Any) -> Outcome:
    local_changed = local != base
    platform_changed = platform != base
    if field == "status":  # None claims no setting: see the module's status rule
        local_changed = local_changed and local is not None
        platform_changed = platform_changed and base is not None
    if local_changed and platform_changed:
        if local == platform:
            return "both_same"
        return "merged" if field in SET_FIELDS else "conflict"
    if platform_changed:
        return "platform_only"
    return "local_only" if local_changed else "unchanged"


def _normalise(field: str, side: str, value: Any) -> Any:
    if field in SET_FIELDS:
        return _set(value or ())
    if value is None:
        return None
    if field == "status":
        return _status_setting(side, str(value))
    if field == "budget":
        return _budget(value)
    if field == "bid_amount":
        return _amount(value)
    if field in TIME_FIELDS:
        return _time(value)
    if field in LINE_FIELDS:
        return "\n".join(line.strip() for line in str(value).splitlines() if line.strip())
    return value


def _merge(base: Any, local: Any, platform: Any) -> list[str]:
    """Local with the platform's additions and removals since the base (sets commute)."""
    b, p = set(base or ()), set(platform or ())
    return sorted((set(local or ()) | (p - b)) - (b - p))


def _set(value: Any) -> list[str]:
    if not value:
        return []  # most lists of most entities: a cycle normalises hundreds of thousands
    items = []
    for item in value:
        if isinstance(item, Mapping):  # Reddit's devices are {"type": "MOBILE"}
            item = item.get("type")
        if item is not None:
            items.append(str(item))
    return sorted(set(items))


def _time(value: Any) -> str | None:
    """A time as Reddit holds it (UTC, whole seconds, `Z`)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _status_setting(side: str, status: str) -> str | None:
    table: Mapping[str, str | None] = (
        PLATFORM_STATUS_SETTINGS if side == "platform" else SPEC_STATUS_SETTINGS
    )
    if status not in table:
        raise ValueError(f"unknown {side} status {status!r}; expected one of {sorted(table)}")
    return table[status]


def _budget(value: Any) -> dict[str, Any]:
    """`{type, amount}`. The currency is left out: a platform budget has none of its own (the
    ad account's applies) and a push never sends one, so it can neither differ nor change."""
    budget_type: Any
    amount: Any
    if isinstance(value, Budget):
        budget_type, amount = value.type, value.amount
    elif isinstance(value, Mapping):
        budget_type, amount = value.get("type"), value.get("amount")
    else:
        raise ValueError(f"a budget must be a Budget or a mapping, not {value!r}")
    return {"type": budget_type, "amount": _amount(amount)}


def _amount(value: Any) -> Decimal | None:
    """An amount at the platform's precision (micros), so "50", 50.0 and Decimal("50.000000")
    are one value."""
    if value is None:
        return None
    return _amount_of(value)


@functools.lru_cache(maxsize=4096)
def _amount_of(value: Decimal | int | float | str) -> Decimal:
    # Cached: a cycle rounds tens of thousands of budgets, mostly the same few amounts.
    return vocab.from_micros(vocab.to_micros(value))


def _lifetime(spend_cap: Decimal | None) -> Budget | None:
    return Budget(type="lifetime", amount=spend_cap) if spend_cap else None
