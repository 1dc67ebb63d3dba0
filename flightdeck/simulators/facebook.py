"""Facebook ad objects as the simulators store them: creation, status changes (with Graph's
cascades and effective status) and Graph's read view. Each `FacebookObjects` sees only what its
caller may see: one organization's objects, as the relay does with that organization's
credentials, or the objects of some ad accounts, as Graph does for a user's token (the Graph
simulator, `meta_graph.py`: both front the same store)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from flightdeck.simulators import performance_sources
from flightdeck.simulators.state import SimulatorState

PLATFORM = "facebook"
# Bookkeeping kept on stored objects (visible in /_sim/state) but not part of Graph's view.
INTERNAL_FIELDS = frozenset({"organization", "client_request_key", "adAccountId", "review"})
# Graph reads budgets back as numeric strings although they are written as integers.
STRING_READ_FIELDS = ("daily_budget", "lifetime_budget")
REQUEST_ONLY_FIELDS = frozenset({"organization", "clientRequestKey"})


def graph_time() -> str:
    """Graph's timestamp format, e.g. 2025-10-21T09:30:00+0000."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def graph_view(obj: Mapping[str, Any], fields: Collection[str] | None = None) -> dict[str, Any]:
    """The object as `GET /{id}` returns it; `fields` narrows it like Graph's `?fields=`."""
    view = {
        key: str(value) if key in STRING_READ_FIELDS and value is not None else value
        for key, value in obj.items()
        if key not in INTERNAL_FIELDS
    }
    if fields:
        view = {key: value for key, value in view.items() if key == "id" or key in fields}
    return view


class FacebookObjects:
    """One organization's Facebook objects in the simulator state. Callers hold `state.lock`."""

    def __init__(
        self,
        state: SimulatorState,
        organization: str | None,
        *,
        ad_accounts: Collection[str] = (),
    ) -> None:
        self._state = state
        self._organization = organization
        # Graph callers see objects by ad account: account ids without the act_ prefix.
        self._accounts = frozenset(a.removeprefix("act_") for a in ad_accounts)

    def get(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        """The object, deleted or not, if this caller may see it."""
        obj = self._store(object_type).get(str(object_id))
        return obj if obj is not None and self._visible(obj) else None

    def _visible(self, obj: Mapping[str, Any]) -> bool:
        if self._organization is not None and obj.get("organization") == self._organization:
            return True
        return str(obj.get("account_id")) in self._accounts

    def visible(self, object_type: str) -> list[dict[str, Any]]:
        """Every object of the type this caller may see, deleted ones included, oldest first."""
        return [obj for obj in self._store(object_type).values() if self._visible(obj)]

    def effective_status(self, object_type: str, obj: Mapping[str, Any]) -> str:
        """What the object's own and its parents' statuses make its effective status."""
        return self._effective_status(object_type, obj)

    def find_live(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        """The object if it exists, is not deleted and belongs to this organization."""
        obj = self.get(object_type, object_id)
        return obj if obj is not None and obj["status"] != "DELETED" else None

    def create(
        self, object_type: str, body: Mapping[str, Any], client_request_key: str
    ) -> dict[str, Any]:
        """Store a validated create request as a Graph object."""
        now = graph_time()
        obj: dict[str, Any] = {k: v for k, v in body.items() if k not in REQUEST_ONLY_FIELDS}
        obj.update(
            id=self._state.new_facebook_id(),
            status=body.get("status", "ACTIVE"),
            created_time=now,
            updated_time=now,
            organization=self._organization,
            client_request_key=client_request_key,
        )
        obj.update(self._lineage(object_type, body))
        # Ads go through review first; the simulator's review ends at their first status change.
        obj["effective_status"] = (
            "PENDING_REVIEW" if object_type == "ads" else self._effective_status(object_type, obj)
        )
        self._store(object_type)[obj["id"]] = obj
        performance_sources.facebook_changed(self._state, object_type, obj)
        return obj

    def update(self, object_type: str, obj: dict[str, Any], fields: Mapping[str, Any]) -> None:
        """Apply a validated update. Deleting a parent deletes its children, as on Graph."""
        now = graph_time()
        obj.update(fields)
        obj["updated_time"] = now
        performance_sources.facebook_changed(self._state, object_type, obj)
        if "status" not in fields:
            return
        affected = [(object_type, obj), *self._descendants(object_type, obj)]
        for kind, item in affected:
            if fields["status"] == "DELETED" and item["status"] != "DELETED":
                item["status"] = "DELETED"
                item["updated_time"] = now
            item["effective_status"] = self._effective_status(kind, item)
            performance_sources.facebook_changed(self._state, kind, item)

    def _store(self, object_type: str) -> dict[str, dict[str, Any]]:
        return self._state.store(PLATFORM, object_type)

    def _lineage(self, object_type: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Ids Graph reports on an object besides the ones it was created with."""
        if object_type in ("campaigns", "adcreatives"):
            return {"account_id": str(body["adAccountId"]).removeprefix("act_")}
        if object_type == "adsets":
            campaign = self._store("campaigns")[str(body["campaign_id"])]
            return {"account_id": campaign["account_id"], "campaign_id": campaign["id"]}
        adset = self._store("adsets")[str(body["adset_id"])]
        return {
            "account_id": adset["account_id"],
            "campaign_id": adset["campaign_id"],
            "adset_id": adset["id"],
        }

    def _descendants(
        self, object_type: str, obj: Mapping[str, Any]
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        parent_field = {"campaigns": "campaign_id", "adsets": "adset_id"}.get(object_type)
        if parent_field is None:
            return
        for kind in ("adsets", "ads"):
            for child in self._store(kind).values():
                if child.get(parent_field) == obj["id"] and child is not obj:
                    yield kind, child

    def _effective_status(self, object_type: str, obj: Mapping[str, Any]) -> str:
        status = str(obj["status"])
        if status != "ACTIVE" or object_type in ("campaigns", "adcreatives"):
            return status
        campaign = self._store("campaigns").get(str(obj.get("campaign_id")))
        if campaign is not None and campaign["status"] != "ACTIVE":
            return "CAMPAIGN_PAUSED"
        adset = self._store("adsets").get(str(obj.get("adset_id")))
        if object_type == "ads" and adset is not None and adset["status"] != "ACTIVE":
            return "ADSET_PAUSED"
        return "ACTIVE"
