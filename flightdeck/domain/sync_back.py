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

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from flightdeck.domain import reddit_vocabulary as vocab
from flightdeck.domain.campaign_sets import AdGroupSpec, AdSpec, Budget, CampaignSpec

CompareEntityType = Literal["campaign", "ad_group", "ad"]
Outcome = Literal["unchanged", "platform_only", "local_only", "both_same", "conflict"]

# The fields sync-back compares, per entity: what someone can change in the platform's UI
# and we push. Everything else is ours alone (targeting, copy) or fixed at creation.
COMPARED_FIELDS: dict[str, tuple[str, ...]] = {
    "campaign": ("name", "status", "budget"),
    "ad_group": ("name", "status", "budget", "bid_amount"),
    "ad": ("name", "status"),
}
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
TAKEN_OUTCOMES = frozenset({"platform_only", "both_same"})


# -- what the platform reports ------------------------------------------------------------------


class PlatformCampaignState(BaseModel):
    """A campaign as the platform has it. `budget` is the optimized (CBO) budget; a lifetime
    `spend_cap` is how a non-optimized campaign's lifetime budget is pushed."""

    platform_id: str
    name: str
    status: str  # ours: active, paused, archived, deleted, completed, pending, error
    budget: Budget | None = None
    spend_cap: Decimal | None = None
    modified_at: datetime | None = None
    deleted: bool = False


class PlatformAdGroupState(BaseModel):
    platform_id: str
    campaign_platform_id: str
    name: str
    status: str
    budget: Budget | None = None
    bid_amount: Decimal | None = None
    modified_at: datetime | None = None
    deleted: bool = False


class PlatformAdState(BaseModel):
    platform_id: str
    ad_group_platform_id: str
    campaign_platform_id: str | None = None
    name: str
    status: str
    modified_at: datetime | None = None
    deleted: bool = False


class PlatformSnapshot(BaseModel):
    """Every campaign and ad group of one account, by platform id, and the HTTP requests it
    took. `ads` is None when they were not fetched (never read that as "no ads"). An id the
    listing lacks is for the caller to judge: the platform lists deleted objects too."""

    campaigns: dict[str, PlatformCampaignState] = Field(default_factory=dict)
    ad_groups: dict[str, PlatformAdGroupState] = Field(default_factory=dict)
    ads: dict[str, PlatformAdState] | None = None
    calls: int = 0


# -- the comparison -----------------------------------------------------------------------------


class FieldComparison(BaseModel):
    """One field's outcome, with the normalised values compared (status: the setting)."""

    field: str
    outcome: Outcome
    base: Any = None
    local: Any = None
    platform: Any = None


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
        """The platform's value of every field to take locally (platform_only, both_same).
        A budget is `{type, amount}`: keep the local currency; a status is a setting."""
        return {name: f.platform for name, f in self.fields.items() if f.outcome in TAKEN_OUTCOMES}

    @property
    def local_only(self) -> list[str]:
        """Fields the next push sends."""
        return [name for name, f in self.fields.items() if f.outcome == "local_only"]


def compare(
    entity_type: CompareEntityType,
    base: Mapping[str, Any],
    local: Mapping[str, Any],
    platform: Mapping[str, Any],
) -> Comparison:
    """Each compared field's outcome. `base` is what was last pushed (the synced snapshot):
    without one there is nothing to tell a platform change from ours by."""
    fields = {}
    for name in COMPARED_FIELDS[entity_type]:
        b, loc, p = (
            _normalise(name, side, values.get(name))
            for side, values in (("spec", base), ("spec", local), ("platform", platform))
        )
        fields[name] = FieldComparison(
            field=name, outcome=_outcome(name, b, loc, p), base=b, local=loc, platform=p
        )
    return Comparison(entity_type=entity_type, fields=fields)


def spec_fields(spec: CampaignSpec | AdGroupSpec | AdSpec) -> dict[str, Any]:
    """The compared fields of a spec, as a push would put them on the platform: a bid amount
    only where the bid strategy bids a price (automatic bidding sends none)."""
    fields: dict[str, Any] = {"name": spec.name, "status": spec.status}
    if isinstance(spec, CampaignSpec):
        fields["budget"] = spec.budget
    elif isinstance(spec, AdGroupSpec):
        fields["budget"] = spec.budget
        bids_a_price = spec.bid_strategy in vocab.BIDS_NEEDING_AMOUNT
        fields["bid_amount"] = spec.bid_amount if bids_a_price else None
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
) -> dict[str, Any]:
    """The compared fields of a platform state. A campaign without an optimized budget reads
    its lifetime spend cap as its budget: that is how a lifetime campaign budget is pushed."""
    fields: dict[str, Any] = {"name": state.name, "status": state.status}
    if isinstance(state, PlatformCampaignState):
        fields["budget"] = state.budget or _lifetime(state.spend_cap)
    elif isinstance(state, PlatformAdGroupState):
        fields["budget"] = state.budget
        fields["bid_amount"] = state.bid_amount
    return fields


# -- normalisation ------------------------------------------------------------------------------


def _outcome(field: str, base: Any, local: Any, platform: Any) -> Outcome:
    local_changed = local != base
    platform_changed = platform != base
    if field == "status":  # None claims no setting: see the module's status rule
        local_changed = local_changed and local is not None
        platform_changed = platform_changed and base is not None
    if local_changed and platform_changed:
        return "both_same" if local == platform else "conflict"
    if platform_changed:
        return "platform_only"
    return "local_only" if local_changed else "unchanged"


def _normalise(field: str, side: str, value: Any) -> Any:
    if value is None:
        return None
    if field == "status":
        return _status_setting(side, str(value))
    if field == "budget":
        return _budget(value)
    if field == "bid_amount":
        return _amount(value)
    return value


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
    return vocab.from_micros(vocab.to_micros(value))


def _lifetime(spend_cap: Decimal | None) -> Budget | None:
    return Budget(type="lifetime", amount=spend_cap) if spend_cap else None
