"""The Google Ads simulator's mutate engine (google-ads-api.md §2, §3): create / update (with
`updateMask`) / remove per resource, temporary (negative) ids, the platform's create rules, and
an undo log so a request is all-or-nothing (or, with `partialFailure`, each operation is).

Stored objects are kept exactly as the API returns them (lowerCamelCase, int64 as strings),
keyed by resource name; an ad group ad holds its `ad`. Every committed change adds a
`change_event` (client type GOOGLE_ADS_API, the caller's email) with the changed fields.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flightdeck.simulators.google_ads_errors import AdsError
from flightdeck.simulators.google_ads_spec import (
    IMM,
    OUT,
    RESOURCES,
    check_resource,
    field_spec,
)
from flightdeck.simulators.google_ads_state import GoogleAdsRuntime, google_time

Store = dict[str, dict[str, Any]]
Objects = dict[str, Store]

MAX_OPERATIONS = 10_000
MICROS_UNIT = 10_000  # USD's minimum currency unit, 0.01, in micros
HEADLINES, DESCRIPTIONS = (3, 15), (2, 4)
HEADLINE_MAX, DESCRIPTION_MAX, PATH_MAX = 30, 90, 15  # UNCONFIRMED officially (§2)
KEYWORD_MAX_CHARS, KEYWORD_MAX_WORDS = 80, 10
NAME_MAX_BYTES = 255


@dataclass(frozen=True)
class Kind:
    """One mutable resource: its REST collection, GAQL name, and googleAds:mutate keys."""

    collection: str
    resource: str
    operation_key: str
    result_key: str
    change_type: str | None
    operations: frozenset[str] = frozenset({"create", "update", "remove"})


KINDS: dict[str, Kind] = {
    k.collection: k
    for k in (
        Kind(
            "campaignBudgets",
            "campaign_budget",
            "campaignBudgetOperation",
            "campaignBudgetResult",
            "CAMPAIGN_BUDGET",
        ),
        Kind("campaigns", "campaign", "campaignOperation", "campaignResult", "CAMPAIGN"),
        Kind("adGroups", "ad_group", "adGroupOperation", "adGroupResult", "AD_GROUP"),
        Kind("adGroupAds", "ad_group_ad", "adGroupAdOperation", "adGroupAdResult", "AD_GROUP_AD"),
        Kind(
            "adGroupCriteria",
            "ad_group_criterion",
            "adGroupCriterionOperation",
            "adGroupCriterionResult",
            "AD_GROUP_CRITERION",
        ),
        Kind("ads", "ad", "adOperation", "adResult", "AD", frozenset({"update"})),
        Kind("labels", "label", "labelOperation", "labelResult", None),
        Kind(
            "adGroupAdLabels",
            "ad_group_ad_label",
            "adGroupAdLabelOperation",
            "adGroupAdLabelResult",
            None,
            frozenset({"create", "remove"}),
        ),
    )
}
BY_OPERATION_KEY = {kind.operation_key: kind for kind in KINDS.values()}
# Reference fields resolved (temporary ids included) and checked to exist.
REFERENCES: dict[str, dict[str, str]] = {
    "campaigns": {"campaignBudget": "campaignBudgets"},
    "adGroups": {"campaign": "campaigns"},
    "adGroupAds": {"adGroup": "adGroups"},
    "adGroupCriteria": {"adGroup": "adGroups"},
    "adGroupAdLabels": {"adGroupAd": "adGroupAds", "label": "labels"},
}
BIDDING_FIELDS = {
    "manualCpc": "MANUAL_CPC",
    "manualCpm": "MANUAL_CPM",
    "maximizeConversions": "MAXIMIZE_CONVERSIONS",
    "maximizeConversionValue": "MAXIMIZE_CONVERSION_VALUE",
    "targetSpend": "TARGET_SPEND",
    "targetCpa": "TARGET_CPA",
    "targetRoas": "TARGET_ROAS",
    "targetImpressionShare": "TARGET_IMPRESSION_SHARE",
    "biddingStrategy": "PORTFOLIO",
}
_NAME_RE = re.compile(r"^customers/(\d+)/([A-Za-z]+)/(-?\d+(?:~-?\d+)*)$")


class OperationFailed(Exception):
    def __init__(self, errors: list[AdsError]) -> None:
        super().__init__(errors[0].message if errors else "failed")
        self.errors = errors


def _fail(
    family: str, code: str, message: str, path: tuple[str, ...] = (), trigger: str | None = None
) -> OperationFailed:
    return OperationFailed([AdsError(family, code, message, path=path, trigger=trigger)])


@dataclass
class Transaction:
    """Changes made so far, undoable, with the change events they will add on commit."""

    objects: Objects
    undo: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def put(self, collection: str, name: str, obj: dict[str, Any]) -> None:
        store = self.objects[collection]
        previous = store.get(name)
        self.undo.append((collection, name, copy.deepcopy(previous) if previous else None))
        store[name] = obj

    def mark(self) -> tuple[int, int]:
        return len(self.undo), len(self.events)

    def rollback(self, to: tuple[int, int] = (0, 0)) -> None:
        while len(self.undo) > to[0]:
            collection, name, previous = self.undo.pop()
            if previous is None:
                self.objects[collection].pop(name, None)
            else:
                self.objects[collection][name] = previous
        del self.events[to[1] :]


class Mutator:
    """Applies the operations of one request for one customer."""

    def __init__(
        self,
        runtime: GoogleAdsRuntime,
        objects: Objects,
        customer_id: str,
        user_email: str,
        *,
        client_type: str = "GOOGLE_ADS_API",
    ) -> None:
        self.runtime = runtime
        self.customer_id = customer_id
        self.user_email = user_email
        self.client_type = client_type
        self.tx = Transaction(objects)
        self.temporary: dict[str, str] = {}  # temp resource name -> real one
        self.touched: set[str] = set()

    # -- entry points --

    def apply(self, kind: Kind, operation: Any) -> dict[str, Any]:
        """One operation; returns its result `{"resourceName": …}` or raises."""
        if not isinstance(operation, dict):
            raise _fail("requestError", "INVALID_INPUT", "An operation must be an object.")
        verbs = [verb for verb in ("create", "update", "remove") if verb in operation]
        if len(verbs) != 1:
            raise _fail(
                "mutateError",
                "INVALID_OPERATION" if verbs else "OPERATION_REQUIRED",
                "Exactly one of create, update or remove must be set.",
            )
        verb = verbs[0]
        if verb not in kind.operations:
            raise _fail(
                "operationAccessDeniedError",
                f"{verb.upper()}_OPERATION_NOT_PERMITTED",
                f"{verb} is not permitted on {kind.collection}.",
                (verb,),
            )
        if verb == "create":
            return self.create(kind, operation["create"])
        if verb == "update":
            return self.update(kind, operation["update"], operation.get("updateMask"))
        return self.remove(kind, operation["remove"])

    def commit(self) -> None:
        store = self.tx.objects["changeEvents"]
        for event in self.tx.events:
            store[event["resourceName"]] = event

    # -- create --

    def _check_rejections(self, body: dict[str, Any]) -> None:
        """A refusal set up through `/_sim/google/rejections` (Google's policy checks: what
        they refuse cannot be known before sending). Each refusal uses one of `remaining`."""
        text = json.dumps(body, sort_keys=True)
        for rejection in self.runtime.rejections:
            if rejection.remaining == 0 or rejection.contains not in text:
                continue
            if rejection.remaining is not None:
                rejection.remaining -= 1
            raise _fail(
                rejection.family, rejection.code, rejection.message, ("create",),
                trigger=rejection.contains,
            )  # fmt: skip

    def create(self, kind: Kind, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _fail("requestError", "INVALID_INPUT", "create must be an object.", ("create",))
        _raise_problems(check_resource(kind.resource, body, creating=True), ("create",))
        self._check_rejections(body)
        obj = copy.deepcopy(body)
        temp = obj.pop("resourceName", None)
        self._resolve_references(kind, obj, ("create",))
        if obj.get("status") == "REMOVED":
            raise _fail(
                "operationAccessDeniedError",
                "CREATE_AS_REMOVED_NOT_PERMITTED",
                "A resource cannot be created as REMOVED.",
                ("create", "status"),
            )
        name = getattr(self, f"_create_{kind.resource}")(obj)
        if temp is not None:
            self._bind_temporary(kind, temp, name)
        obj = {"resourceName": name, **obj}
        self.tx.put(kind.collection, name, obj)
        self._event(kind, name, "CREATE", None, obj)
        return {"resourceName": name}

    def _create_campaign_budget(self, obj: dict[str, Any]) -> str:
        obj.setdefault("explicitlyShared", True)
        obj.setdefault("deliveryMethod", "STANDARD")
        obj.setdefault("period", "DAILY")
        obj.setdefault("type", "STANDARD")
        if obj["explicitlyShared"] and not obj.get("name"):
            raise _fail(
                "fieldError", "REQUIRED", "A shared budget needs a name.", ("create", "name")
            )
        self._check_budget(obj, "create")
        obj_id = self.runtime.new_id()
        obj.update(id=obj_id, status="ENABLED", referenceCount="0")
        return self._name("campaignBudgets", obj_id)

    def _check_budget(self, obj: dict[str, Any], verb: str, own: str | None = None) -> None:
        if "name" in obj:
            self._check_name(obj["name"], (verb, "name"))
            if any(
                o.get("name") == obj["name"] and o.get("status") != "REMOVED" and n != own
                for n, o in self._mine("campaignBudgets")
            ):
                raise _fail(
                    "campaignBudgetError",
                    "DUPLICATE_NAME",
                    "A budget with this name already exists.",
                    (verb, "name"),
                    obj["name"],
                )
        amount = obj.get("amountMicros")
        if amount is None and obj.get("period", "DAILY") == "DAILY":
            raise _fail(
                "fieldError", "REQUIRED", "amountMicros is required.", (verb, "amountMicros")
            )
        if amount is not None:
            if int(amount) % MICROS_UNIT:
                raise _fail(
                    "campaignBudgetError",
                    "NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT",
                    "The budget is not a multiple of the currency's minimum unit.",
                    (verb, "amountMicros"),
                    amount,
                )
            if int(amount) < MICROS_UNIT:
                raise _fail(
                    "campaignBudgetError",
                    "BUDGET_BELOW_PER_DAY_MINIMUM",
                    "The budget is below the daily minimum.",
                    (verb, "amountMicros"),
                    amount,
                )

    def _create_campaign(self, obj: dict[str, Any]) -> str:
        for required in (
            "name",
            "advertisingChannelType",
            "campaignBudget",
            "containsEuPoliticalAdvertising",
        ):
            if required not in obj:
                raise _fail(
                    "fieldError", "REQUIRED", f"{required} is required.", ("create", required)
                )
        bidding = [name for name in BIDDING_FIELDS if name in obj]
        if not bidding:
            raise _fail(
                "fieldError",
                "REQUIRED",
                "A bidding strategy is required.",
                ("create", "campaign_bidding_strategy"),
            )
        if len(bidding) > 1:
            raise _fail(
                "requestError",
                "INVALID_INPUT",
                "Only one bidding strategy may be set.",
                ("create", bidding[1]),
            )
        obj.setdefault("status", "ENABLED")  # the default that makes us create PAUSED
        self._check_campaign_name(obj["name"], "create")
        self._check_budget_use(obj["campaignBudget"], "create")
        obj_id = self.runtime.new_id()
        obj.update(id=obj_id, biddingStrategyType=BIDDING_FIELDS[bidding[0]])
        self._count_budget(obj["campaignBudget"], +1)
        return self._name("campaigns", obj_id)

    def _check_campaign_name(self, name: str, verb: str, own: str | None = None) -> None:
        self._check_name(name, (verb, "name"))
        if any(
            c.get("name") == name and c.get("status") in ("ENABLED", "PAUSED") and n != own
            for n, c in self._mine("campaigns")
        ):
            raise _fail(
                "campaignError",
                "DUPLICATE_CAMPAIGN_NAME",
                "A campaign with this name already exists.",
                (verb, "name"),
                name,
            )

    def _check_budget_use(self, budget_name: str, verb: str) -> None:
        budget = self.tx.objects["campaignBudgets"].get(budget_name, {})
        if not budget.get("explicitlyShared", True) and int(budget.get("referenceCount", "0")):
            raise _fail(
                "campaignBudgetError",
                "CAMPAIGN_BUDGET_IN_USE",
                "A non-shared budget belongs to one campaign.",
                (verb, "campaignBudget"),
                budget_name,
            )

    def _count_budget(self, budget_name: str, delta: int) -> None:
        budget = self.tx.objects["campaignBudgets"].get(budget_name)
        if budget is not None:
            updated = copy.deepcopy(budget)
            updated["referenceCount"] = str(max(0, int(budget.get("referenceCount", "0")) + delta))
            self.tx.put("campaignBudgets", budget_name, updated)

    def _create_ad_group(self, obj: dict[str, Any]) -> str:
        for required in ("name", "campaign"):
            if required not in obj:
                raise _fail(
                    "fieldError", "REQUIRED", f"{required} is required.", ("create", required)
                )
        obj.setdefault("status", "ENABLED")  # UNCONFIRMED default (§8.6)
        obj.setdefault("type", "SEARCH_STANDARD")
        self._check_ad_group(obj, "create")
        obj_id = self.runtime.new_id()
        obj["id"] = obj_id
        return self._name("adGroups", obj_id)

    def _check_ad_group(self, obj: dict[str, Any], verb: str, own: str | None = None) -> None:
        name = obj.get("name")
        if name is not None:
            if len(name) >= NAME_MAX_BYTES:
                raise _fail(
                    "stringLengthError", "TOO_LONG", "The name is too long.", (verb, "name"), name
                )
            self._check_name(name, (verb, "name"))
            if any(
                g.get("name") == name
                and g.get("campaign") == obj.get("campaign")
                and g.get("status") != "REMOVED"
                and n != own
                for n, g in self._mine("adGroups")
            ):
                raise _fail(
                    "adGroupError",
                    "DUPLICATE_ADGROUP_NAME",
                    "An ad group with this name already exists in the campaign.",
                    (verb, "name"),
                    name,
                )
        bid = obj.get("cpcBidMicros")
        if bid is not None and int(bid) % MICROS_UNIT:
            raise _fail(
                "adGroupError",
                "INVALID_BID",
                "The bid is not a multiple of 0.01.",
                (verb, "cpcBidMicros"),
                bid,
            )

    def _create_ad_group_ad(self, obj: dict[str, Any]) -> str:
        for required in ("adGroup", "ad"):
            if required not in obj:
                raise _fail(
                    "fieldError", "REQUIRED", f"{required} is required.", ("create", required)
                )
        obj.setdefault("status", "ENABLED")
        ad = obj["ad"]
        self._check_ad(ad, ("create", "ad"))
        ad_id = self.runtime.new_id()
        ad.update(id=ad_id, resourceName=self._name("ads", ad_id), type="RESPONSIVE_SEARCH_AD")
        group_id = obj["adGroup"].rsplit("/", 1)[1]
        return self._name("adGroupAds", f"{group_id}~{ad_id}")

    def _check_ad(self, ad: dict[str, Any], at: tuple[str, ...]) -> None:
        if not ad.get("finalUrls"):
            raise _fail(
                "adError", "FINAL_URL_REQUIRED", "A final URL is required.", (*at, "finalUrls")
            )
        rsa = ad.get("responsiveSearchAd")
        if rsa is None:
            raise _fail(
                "fieldError",
                "REQUIRED",
                "The ad's type info (responsiveSearchAd) is required.",
                (*at, "responsiveSearchAd"),
            )
        for key, (low, high), limit in (
            ("headlines", HEADLINES, HEADLINE_MAX),
            ("descriptions", DESCRIPTIONS, DESCRIPTION_MAX),
        ):
            assets = rsa.get(key) or []
            where = (*at, "responsiveSearchAd", key)
            if len(assets) < low:
                raise _fail("collectionSizeError", "TOO_FEW", f"Too few {key}.", where)
            if len(assets) > high:
                raise _fail("collectionSizeError", "TOO_MANY", f"Too many {key}.", where)
            for index, asset in enumerate(assets):
                text = asset.get("text") or ""
                if not text.strip():
                    raise _fail(
                        "stringLengthError", "EMPTY", "Text is empty.", (*where, str(index), "text")
                    )
                if len(text) > limit:
                    raise _fail(
                        "stringLengthError",
                        "TOO_LONG",
                        "Text is too long.",
                        (*where, str(index), "text"),
                        text,
                    )
        for key in ("path1", "path2"):
            if len(rsa.get(key) or "") > PATH_MAX:
                raise _fail(
                    "stringLengthError",
                    "TOO_LONG",
                    "The path is too long.",
                    (*at, "responsiveSearchAd", key),
                    rsa[key],
                )

    def _create_ad_group_criterion(self, obj: dict[str, Any]) -> str:
        for required in ("adGroup", "keyword"):
            if required not in obj:
                raise _fail(
                    "fieldError", "REQUIRED", f"{required} is required.", ("create", required)
                )
        keyword = obj["keyword"]
        text = keyword.get("text") or ""
        where = ("create", "keyword", "text")
        if not text.strip():
            raise _fail("criterionError", "INVALID_KEYWORD_TEXT", "The keyword is empty.", where)
        if len(text) > KEYWORD_MAX_CHARS:
            raise _fail(
                "criterionError", "KEYWORD_TEXT_TOO_LONG", "The keyword is too long.", where, text
            )
        if len(text.split()) > KEYWORD_MAX_WORDS:
            raise _fail(
                "criterionError",
                "KEYWORD_HAS_TOO_MANY_WORDS",
                "The keyword has too many words.",
                where,
                text,
            )
        if "matchType" not in keyword:
            raise _fail(
                "fieldError",
                "REQUIRED",
                "matchType is required.",
                ("create", "keyword", "matchType"),
            )
        obj.setdefault("status", "ENABLED")
        obj.setdefault("negative", False)
        obj["type"] = "KEYWORD"
        criterion_id = self.runtime.new_id()
        obj["criterionId"] = criterion_id
        group_id = obj["adGroup"].rsplit("/", 1)[1]
        return self._name("adGroupCriteria", f"{group_id}~{criterion_id}")

    def _create_label(self, obj: dict[str, Any]) -> str:
        if not obj.get("name"):
            raise _fail("fieldError", "REQUIRED", "name is required.", ("create", "name"))
        if any(
            o.get("name") == obj["name"] and o.get("status") != "REMOVED"
            for _, o in self._mine("labels")
        ):
            raise _fail(
                "labelError",
                "DUPLICATE_NAME",
                "A label with this name exists.",
                ("create", "name"),
                obj["name"],
            )
        obj_id = self.runtime.new_id()
        obj.update(id=obj_id, status="ENABLED")
        return self._name("labels", obj_id)

    def _create_ad_group_ad_label(self, obj: dict[str, Any]) -> str:
        for required in ("adGroupAd", "label"):
            if required not in obj:
                raise _fail(
                    "fieldError", "REQUIRED", f"{required} is required.", ("create", required)
                )
        ad_key = obj["adGroupAd"].rsplit("/", 1)[1]
        label_id = obj["label"].rsplit("/", 1)[1]
        name = self._name("adGroupAdLabels", f"{ad_key}~{label_id}")
        if name in self.tx.objects["adGroupAdLabels"]:
            raise _fail(
                "mutateError",
                "RESOURCE_ALREADY_EXISTS",
                "The label is already applied.",
                ("create",),
            )
        return name

    # -- update --

    def update(self, kind: Kind, body: Any, mask: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _fail("requestError", "INVALID_INPUT", "update must be an object.", ("update",))
        problems = [
            p for p in check_resource(kind.resource, body, creating=True) if p[1] != "fieldError"
        ]
        _raise_problems(problems, ("update",))
        raw_name = body.get("resourceName")
        if not raw_name:
            raise _fail(
                "fieldError", "REQUIRED", "resourceName is required.", ("update", "resourceName")
            )
        if not isinstance(mask, str) or not mask.strip():
            raise _fail(
                "fieldMaskError", "FIELD_MASK_MISSING", "updateMask is required.", ("update_mask",)
            )
        name = self._resolve(raw_name, kind.collection, ("update", "resourceName"))
        self._once(name)
        current, holder = self._current(kind, name)
        updated = copy.deepcopy(current)
        changed: list[str] = []
        for path in [p.strip() for p in mask.split(",") if p.strip()]:
            parts = path.split(".")
            spec = field_spec(kind.resource, parts)
            if spec is None:
                raise _fail(
                    "fieldMaskError",
                    "FIELD_NOT_FOUND",
                    f"Unknown field {path}.",
                    ("update_mask",),
                    path,
                )
            top = field_spec(kind.resource, parts[:1])
            if spec.behavior in (IMM, OUT) or (top is not None and top.behavior in (IMM, OUT)):
                raise _fail(
                    "fieldError",
                    "IMMUTABLE_FIELD",
                    f"{path} cannot be changed.",
                    ("update", *parts),
                    path,
                )
            _set_path(updated, parts, _get_path(body, parts))
            changed.append(path)
        self._validate_update(kind, name, updated, current)
        self._store_update(kind, name, updated, holder)
        old = {p: _get_path(current, p.split(".")) for p in changed}
        new = {p: _get_path(updated, p.split(".")) for p in changed}
        self._event(kind, name, "UPDATE", old, new, changed)
        return {"resourceName": name}

    def _validate_update(
        self, kind: Kind, name: str, new: dict[str, Any], old: dict[str, Any]
    ) -> None:
        if kind.resource == "campaign":
            if new.get("name") != old.get("name") or (
                new.get("status") != old.get("status") and new.get("status") != "REMOVED"
            ):
                self._check_campaign_name(new["name"], "update", own=name)
            if new.get("campaignBudget") != old.get("campaignBudget"):
                new["campaignBudget"] = self._resolve(
                    new["campaignBudget"], "campaignBudgets", ("update", "campaignBudget")
                )
                self._check_budget_use(new["campaignBudget"], "update")
                self._count_budget(old["campaignBudget"], -1)
                self._count_budget(new["campaignBudget"], +1)
        elif kind.resource == "campaign_budget":
            self._check_budget(new, "update", own=name)
        elif kind.resource == "ad_group":
            self._check_ad_group(new, "update", own=name)
        elif kind.resource == "ad":
            self._check_ad(new, ("update",))
        if new.get("status") == "REMOVED" and old.get("status") != "REMOVED":
            raise _fail(
                "fieldError",
                "IMMUTABLE_FIELD",
                "Use remove to remove a resource.",
                ("update", "status"),
            )

    def _current(self, kind: Kind, name: str) -> tuple[dict[str, Any], str | None]:
        """The stored object (for an ad: the one inside its ad group ad) and its holder."""
        if kind.collection == "ads":
            for holder_name, holder in self._mine("adGroupAds"):
                if holder["ad"].get("resourceName") == name:
                    if holder.get("status") == "REMOVED":
                        raise _removed(name, ("update",))
                    return holder["ad"], holder_name
            raise _not_found(name, ("update", "resourceName"))
        obj = self.tx.objects[kind.collection].get(name)
        if obj is None:
            raise _not_found(name, ("update", "resourceName"))
        if obj.get("status") == "REMOVED":
            raise _removed(name, ("update",))
        return obj, None

    def _store_update(self, kind: Kind, name: str, obj: dict[str, Any], holder: str | None) -> None:
        if holder is None:
            self.tx.put(kind.collection, name, obj)
            return
        ad_group_ad = copy.deepcopy(self.tx.objects["adGroupAds"][holder])
        ad_group_ad["ad"] = obj
        self.tx.put("adGroupAds", holder, ad_group_ad)

    # -- remove --

    def remove(self, kind: Kind, raw_name: Any) -> dict[str, Any]:
        if not isinstance(raw_name, str):
            raise _fail(
                "requestError", "INVALID_INPUT", "remove takes a resource name.", ("remove",)
            )
        name = self._resolve(raw_name, kind.collection, ("remove",))
        self._once(name)
        obj = self.tx.objects[kind.collection].get(name)
        if obj is None:
            raise _not_found(name, ("remove",))
        if kind.collection == "adGroupAdLabels":
            self.tx.undo.append((kind.collection, name, copy.deepcopy(obj)))
            del self.tx.objects[kind.collection][name]
            return {"resourceName": name}
        if obj.get("status") == "REMOVED":
            raise _removed(name, ("remove",))
        if kind.collection == "campaignBudgets" and int(obj.get("referenceCount", "0")):
            raise _fail(
                "campaignBudgetError",
                "CAMPAIGN_BUDGET_IN_USE",
                "The budget is used by a campaign.",
                ("remove",),
                name,
            )
        removed = {**copy.deepcopy(obj), "status": "REMOVED"}
        self.tx.put(kind.collection, name, removed)
        if kind.collection == "campaigns":
            self._count_budget(obj["campaignBudget"], -1)
            budget = self.tx.objects["campaignBudgets"].get(obj["campaignBudget"])
            if budget is not None and not budget.get("explicitlyShared", True):
                # A non-shared budget's status follows its campaign (§2 Budget).
                self.tx.put(
                    "campaignBudgets",
                    obj["campaignBudget"],
                    {**copy.deepcopy(budget), "status": "REMOVED"},
                )
        self._event(
            kind, name, "REMOVE", {"status": obj.get("status")}, {"status": "REMOVED"}, ["status"]
        )
        return {"resourceName": name}

    # -- helpers --

    def _mine(self, collection: str) -> list[tuple[str, dict[str, Any]]]:
        prefix = f"customers/{self.customer_id}/"
        return [(n, o) for n, o in self.tx.objects[collection].items() if n.startswith(prefix)]

    def _name(self, collection: str, key: str) -> str:
        return f"customers/{self.customer_id}/{collection}/{key}"

    def _check_name(self, name: Any, where: tuple[str, ...]) -> None:
        if not isinstance(name, str) or not name.strip():
            raise _fail("stringLengthError", "EMPTY", "The name is empty.", where)
        if len(name.encode()) > NAME_MAX_BYTES:
            raise _fail("stringLengthError", "TOO_LONG", "The name is too long.", where, name)
        if any(ch in name for ch in "\x00\n\r"):
            raise _fail(
                "stringFormatError",
                "ILLEGAL_CHARS",
                "The name has illegal characters.",
                where,
                name,
            )

    def _bind_temporary(self, kind: Kind, temp: Any, real: str) -> None:
        match = _NAME_RE.match(temp) if isinstance(temp, str) else None
        if match is None or match.group(2) != kind.collection or not _temporary(match.group(3)):
            raise _fail(
                "mutateError",
                "RESOURCE_NOT_FOUND",
                "A create's resourceName may only carry a temporary (negative) id.",
                ("create", "resourceName"),
                str(temp),
            )
        if match.group(1) != self.customer_id:
            raise _fail(
                "requestError",
                "INVALID_INPUT",
                "Another customer's resource name.",
                ("create", "resourceName"),
                temp,
            )
        temp_id = match.group(3).rsplit("~", 1)[-1]  # composite keys: the new object's own id
        if any(t.rsplit("/", 1)[1].rsplit("~", 1)[-1] == temp_id for t in self.temporary):
            raise _fail(
                "mutateError",
                "ID_EXISTS_IN_MULTIPLE_MUTATES",
                "Temporary ids must be unique within a request.",
                ("create", "resourceName"),
                temp,
            )
        self.temporary[temp] = real

    def _resolve(self, raw: str, collection: str, where: tuple[str, ...]) -> str:
        name = self.temporary.get(raw, raw)
        match = _NAME_RE.match(name)
        if match is None or match.group(2) != collection:
            raise _fail(
                "requestError", "INVALID_INPUT", f"Malformed resource name {raw}.", where, raw
            )
        if _temporary(match.group(3)):
            raise _fail(
                "mutateError",
                "RESOURCE_NOT_FOUND",
                "A temporary id must be created earlier in the same request.",
                where,
                raw,
            )
        if match.group(1) != self.customer_id:
            raise _fail(
                "authorizationError",
                "USER_PERMISSION_DENIED",
                "Another customer's resource.",
                where,
                raw,
            )
        return name

    def _resolve_references(self, kind: Kind, obj: dict[str, Any], where: tuple[str, ...]) -> None:
        for key, collection in REFERENCES.get(kind.collection, {}).items():
            if key not in obj:
                continue
            obj[key] = self._resolve(obj[key], collection, (*where, key))
            target = self.tx.objects[collection].get(obj[key])
            if target is None:
                raise _not_found(obj[key], (*where, key))
            if target.get("status") == "REMOVED":
                raise _removed(obj[key], (*where, key))

    def _once(self, name: str) -> None:
        if name in self.touched:
            raise _fail(
                "mutateError",
                "ID_EXISTS_IN_MULTIPLE_MUTATES",
                "The same resource appears in several operations.",
                (),
                name,
            )
        self.touched.add(name)

    def _event(
        self,
        kind: Kind,
        name: str,
        operation: str,
        old: dict[str, Any] | None,
        new: dict[str, Any],
        changed: list[str] | None = None,
    ) -> None:
        if kind.change_type is None:
            return
        now = google_time()
        number = self.runtime.new_event_number()
        stamp = now.replace("-", "").replace(" ", "").replace(":", "").replace(".", "")
        resource_key = _camel_resource(kind.resource)
        event: dict[str, Any] = {
            "resourceName": f"customers/{self.customer_id}/changeEvents/{stamp}~{number}~0",
            "changeDateTime": now,
            "changeResourceType": kind.change_type,
            "changeResourceName": name,
            "clientType": self.client_type,
            "userEmail": self.user_email,
            "resourceChangeOperation": operation,
            "changedFields": ",".join(changed if changed is not None else sorted(new)),
            "newResource": {resource_key: copy.deepcopy(new)},
        }
        if old is not None:
            event["oldResource"] = {resource_key: copy.deepcopy(old)}
        self.tx.events.append(event)


def _temporary(key: str) -> bool:
    """A temporary id, alone (`-2`) or in a composite key (`123~-4`, `-3~-4`: an ad group ad
    of a new ad, in an ad group that may be new too; composite temporary names are
    UNCONFIRMED for Google, accepted here so a label can be attached in the same request)."""
    return any(part.startswith("-") for part in key.split("~"))


def _camel_resource(resource: str) -> str:
    head, *rest = resource.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _raise_problems(
    problems: list[tuple[tuple[str, ...], str, str]], prefix: tuple[str, ...]
) -> None:
    if problems:
        raise OperationFailed(
            [
                AdsError(
                    family,
                    code,
                    f"Invalid value at {'.'.join(path) or 'body'}.",
                    path=(*prefix, *path),
                )
                for path, family, code in problems
            ]
        )


def _not_found(name: str, where: tuple[str, ...]) -> OperationFailed:
    return _fail("mutateError", "RESOURCE_NOT_FOUND", "The resource was not found.", where, name)


def _removed(name: str, where: tuple[str, ...]) -> OperationFailed:
    return _fail(
        "operationAccessDeniedError",
        "OPERATION_NOT_PERMITTED_FOR_REMOVED_RESOURCE",
        "The resource was removed.",
        where,
        name,
    )


def _get_path(obj: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return copy.deepcopy(obj)


def _set_path(obj: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        obj = obj.setdefault(part, {})
    if value is None:
        obj.pop(parts[-1], None)  # in the mask but absent: cleared
    else:
        obj[parts[-1]] = value


# -- requests --


@dataclass
class MutateOutcome:
    results: list[dict[str, Any] | None]
    errors: list[AdsError]


def run_operations(
    mutator: Mutator,
    operations: list[tuple[Kind, Any]],
    *,
    partial_failure: bool,
    validate_only: bool,
    operation_prefix: Callable[[Kind], tuple[str, ...]] = lambda kind: (),
) -> MutateOutcome:
    """Apply every operation: all or nothing, or (partialFailure) each on its own. Nothing is
    kept with validateOnly; nothing but what succeeded is kept otherwise."""
    results: list[dict[str, Any] | None] = []
    errors: list[AdsError] = []
    for index, (kind, operation) in enumerate(operations):
        mark = mutator.tx.mark()
        try:
            results.append(mutator.apply(kind, operation))
        except OperationFailed as exc:
            mutator.tx.rollback(mark)
            for error in exc.errors:
                error.operation = index
                error.operation_prefix = operation_prefix(kind)
            errors += exc.errors
            results.append(None)
    if validate_only or (errors and not partial_failure):
        mutator.tx.rollback()
    else:
        mutator.commit()
    return MutateOutcome(results, errors)


def mutable_resource(objects: Objects, collection: str, name: str) -> dict[str, Any] | None:
    if collection == "ads":
        for holder in objects["adGroupAds"].values():
            if holder["ad"].get("resourceName") == name:
                return copy.deepcopy(holder["ad"])
        return None
    obj = objects[collection].get(name)
    return copy.deepcopy(obj) if obj is not None else None


__all__ = [
    "BY_OPERATION_KEY",
    "KINDS",
    "MAX_OPERATIONS",
    "Kind",
    "Mutator",
    "run_operations",
    "RESOURCES",
]
