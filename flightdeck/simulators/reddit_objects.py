"""Reddit ad objects as the simulator stores them: creation and partial updates (validated by
`reddit_rules`), and the read view with the fields Reddit derives (`effective_status`, the
campaign's objective on ad groups and ads, the post's URL on ads).

Stored objects hold what was written (what `GET /_sim/state` shows); derived fields are
computed on every read, so a platform-side edit of `configured_status` shows through at once.
An admin edit may also store `effective_status` (e.g. REJECTED, COMPLETED): it wins unless
the object or a parent is paused, archived or deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flightdeck.simulators import performance_sources
from flightdeck.simulators import reddit_rules as rules
from flightdeck.simulators.reddit_errors import bad_request
from flightdeck.simulators.reddit_index import StoredObjects
from flightdeck.simulators.reddit_spec import FieldError
from flightdeck.simulators.reddit_state import reddit_time
from flightdeck.simulators.state import SimulatorState

PLATFORM = "reddit"
# Derived by the platform: never taken from a request, even where the spec forgets readOnly.
DERIVED_FIELDS = frozenset({"effective_status", "delivery_status", "campaign_objective_type"})
# Bookkeeping on stored objects whose Reddit views do not show it.
INTERNAL_FIELDS = frozenset({"ad_account_id"})
ACCOUNT_BOOKKEEPING = frozenset({"funding_instruments", "pixels", "profiles", "posts"})
HIDDEN_FIELDS = DERIVED_FIELDS | INTERNAL_FIELDS  # what a bookkeeping object's view leaves out
LABELS = {"campaigns": "campaign", "ad_groups": "ad group", "ads": "ad", "posts": "post"}
NOT_LIVE = frozenset({"PAUSED", "ARCHIVED", "DELETED"})

DEFAULTS: dict[str, dict[str, Any]] = {
    "campaigns": {
        "configured_status": "ACTIVE",
        "funding_instrument_id": None,
        "goal_type": None,
        "goal_value": None,
        "is_campaign_budget_optimization": False,
        "spend_cap": None,
        "start_time": None,
        "end_time": None,
        "bid_strategy": None,
        "bid_type": None,
        "bid_value": None,
        "optimization_goal": None,
        "app_id": None,
        "view_through_conversion_type": None,
        "invoice_label": None,
        "special_ad_categories": ["NONE"],
        "is_max": False,
    },
    "ad_groups": {
        "configured_status": "ACTIVE",
        "bid_strategy": None,
        "bid_type": None,
        "bid_value": None,
        "goal_type": None,
        "goal_value": None,
        "start_time": None,
        "end_time": None,
        "optimization_goal": None,
        "targeting": None,
        "schedule": None,
        "view_through_conversion_type": None,
        "app_id": None,
    },
    "ads": {
        "post_id": None,
        "click_url": None,
        "click_url_query_parameters": None,
        "event_trackers": None,
        "profile_id": None,
        "preview_expiry": None,
        "rejection_reason": None,
    },
    "posts": {"allow_comments": True, "content": [], "is_richtext": False, "thumbnail_url": None},
}


class RedditObjects:
    """One ad account's objects (or a profile's posts). Callers hold `state.lock` to write."""

    def __init__(self, state: SimulatorState, ad_account_id: str) -> None:
        self._state = state
        self.ad_account_id = ad_account_id

    def store(self, kind: str) -> dict[str, dict[str, Any]]:
        return self._state.objects[PLATFORM][kind]  # state.store's, without a call per read

    def find_live(self, kind: str, object_id: str) -> dict[str, Any] | None:
        obj = self.store(kind).get(object_id)
        if obj is None or obj.get("configured_status") == "DELETED":
            return None
        return obj if self._owns(obj) else None

    def items(self, kind: str) -> list[dict[str, Any]]:
        return [obj for obj in self.store(kind).values() if self._owns(obj)]

    def listing(self, kind: str, parent: tuple[str, str] | None = None) -> StoredObjects:
        """This account's campaigns, ad groups or ads in creation order — or, with `parent`
        (`("campaign_id", id)`, `("ad_group_id", id)`), those of one parent — found by index:
        a page of it costs the page, not a scan of every stored object."""
        store = self.store(kind)
        field, value = parent or ("ad_account_id", self.ad_account_id)
        ids = self._state.reddit_indexes.ids(kind, store, field, value, self._state.edits)
        found = StoredObjects(store, ids)
        if parent is None:
            return found
        return StoredObjects(store, [o["id"] for o in found if self._owns(o)])

    # -- writes ----------------------------------------------------------------------------

    def create(self, kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Validate and store a new campaign, ad group or ad of this account."""
        fields = _without_derived(fields)
        merged = {**DEFAULTS[kind], **fields}
        _raise_if(self._check(kind, merged, creating=True))
        stamp = reddit_time()
        obj = {
            "id": self._state.reddit.new_id(),
            "ad_account_id": self.ad_account_id,
            **merged,
            "created_at": stamp,
            "modified_at": stamp,
        }
        self._link(kind, obj)
        self.store(kind)[obj["id"]] = obj
        performance_sources.reddit_changed(self._state, kind, obj)
        return obj

    def update(self, kind: str, obj: dict[str, Any], changes: Mapping[str, Any]) -> None:
        """Apply a validated partial update; `modified_at` moves even if nothing changed."""
        changes = _without_derived(changes)
        problems = rules.check_not_deleted(obj, LABELS[kind])
        problems += rules.check_unchanged(obj, changes, ("campaign_id", "optimization_goal"))
        _raise_if(problems or self._check(kind, {**obj, **changes}, creating=False))
        obj.update(changes, modified_at=reddit_time())
        self._link(kind, obj)
        performance_sources.reddit_changed(self._state, kind, obj)

    def create_post(self, profile: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
        _raise_if(rules.check_post(fields))
        post_id = self._state.reddit.new_post_id()
        slug = "_".join(str(fields.get("headline", "")).lower().split())[:50] or "post"
        post = {
            **DEFAULTS["posts"],
            **fields,
            "id": post_id,
            "profile_id": profile["id"],
            "ad_account_id": self.ad_account_id,
            "created_at": reddit_time(),
            "post_url": f"https://www.reddit.com/r/u_{profile['name']}/comments/"
            f"{post_id.removeprefix('t3_')}/{slug}/",
        }
        self.store("posts")[post_id] = post
        return post

    # -- reads -----------------------------------------------------------------------------

    def view(self, kind: str, obj: Mapping[str, Any]) -> dict[str, Any]:
        """The object as Reddit's API returns it."""
        hidden = HIDDEN_FIELDS if kind in ACCOUNT_BOOKKEEPING else DERIVED_FIELDS
        view = {k: v for k, v in obj.items() if k not in hidden}
        if kind not in ("campaigns", "ad_groups", "ads"):
            return view
        view["effective_status"] = self.effective_status(kind, obj)
        if kind != "campaigns":
            campaign = self.store("campaigns")[obj["campaign_id"]]
            view["campaign_objective_type"] = campaign["objective"]
        if kind == "ad_groups":
            cbo = campaign["is_campaign_budget_optimization"]
            view["is_campaign_budget_optimization"] = bool(cbo)
        return view

    def effective_status(self, kind: str, obj: Mapping[str, Any]) -> str:
        own = obj.get("configured_status")
        if own in NOT_LIVE:
            return str(own)
        parents = self._parents(kind, obj)
        for parent_kind, parent in parents:
            if parent.get("configured_status") in NOT_LIVE:
                return "AD_GROUP_PAUSED" if parent_kind == "ad_groups" else "CAMPAIGN_PAUSED"
        if obj.get("effective_status"):
            return str(obj["effective_status"])
        campaign = obj if kind == "campaigns" else dict(parents).get("campaigns", {})
        return "ACTIVE" if self._funded(campaign) else "PENDING_BILLING_INFO"

    # -- helpers ---------------------------------------------------------------------------

    def _check(self, kind: str, merged: Mapping[str, Any], *, creating: bool) -> list[FieldError]:
        if kind == "campaigns":
            return rules.check_campaign(merged, self.find_live)
        if kind == "ad_groups":
            campaign = self.find_live("campaigns", str(merged.get("campaign_id")))
            if campaign is None:
                return [rules.problem("campaign_id", "must name a live campaign of the account")]
            return rules.check_ad_group(merged, campaign, self.find_live, creating=creating)
        ad_group = self.find_live("ad_groups", str(merged.get("ad_group_id")))
        if ad_group is None:
            return [rules.problem("ad_group_id", "must name a live ad group of the account")]
        return rules.check_ad(merged, self.find_live)

    def _link(self, kind: str, obj: dict[str, Any]) -> None:
        """Copy what an ad shows of its ad group and post (both checked to exist)."""
        if kind == "ads":
            obj["campaign_id"] = self.store("ad_groups")[obj["ad_group_id"]]["campaign_id"]
            post = self.store("posts").get(str(obj.get("post_id")))
            obj["post_url"] = post["post_url"] if post else None

    def _parents(self, kind: str, obj: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        parents = []
        if kind == "ads":
            parents.append(("ad_groups", self.store("ad_groups")[obj["ad_group_id"]]))
        if kind in ("ads", "ad_groups"):
            parents.append(("campaigns", self.store("campaigns")[obj["campaign_id"]]))
        return parents

    def _funded(self, campaign: Mapping[str, Any]) -> bool:
        # Reddit's likely answer to a campaign without a usable funding instrument (§3).
        instrument = self.store("funding_instruments").get(
            str(campaign.get("funding_instrument_id"))
        )
        return bool(instrument and instrument.get("is_servable"))

    def _owns(self, obj: Mapping[str, Any]) -> bool:
        return obj.get("ad_account_id", self.ad_account_id) == self.ad_account_id


def _without_derived(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in DERIVED_FIELDS}


def _raise_if(problems: list[FieldError]) -> None:
    if problems:
        raise bad_request(problems)
