"""Ad objects through the Graph simulator: creating campaigns, ad sets, creatives and ads under an
ad account (after the SDK's parameter types, Graph's rules in `graph.py` and Meta's own: DSA
fields for EU targeting, minimum budgets per currency and goal, Pages and images the caller may
use), `execution_options=["validate_only"]`, reads with `fields=`, lists with `filtering`,
`effective_status` and cursor paging, updates and deletes. Objects live in the shared Facebook
store; the Graph caller sees those of its ad accounts."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from flightdeck.domain.images import NotAnImage, image_info
from flightdeck.domain.meta_rules import min_daily_budget, targets_eu
from flightdeck.simulators import meta_review
from flightdeck.simulators.facebook import FacebookObjects, graph_time, graph_view
from flightdeck.simulators.graph import (
    validate_ad,
    validate_adcreative,
    validate_adset,
    validate_campaign,
    validate_update,
)
from flightdeck.simulators.graph_errors import Subcode, invalid_parameter, nonexistent_object
from flightdeck.simulators.meta_call import Caller, Params
from flightdeck.simulators.meta_sdk_spec import check_params, coerce
from flightdeck.simulators.state import SimulatorState

AD_KINDS = ("campaigns", "adsets", "adcreatives", "ads")
ENDPOINT = {
    "campaigns": "POST act/campaigns",
    "adsets": "POST act/adsets",
    "adcreatives": "POST act/adcreatives",
    "ads": "POST act/ads",
}
UPDATE_ENDPOINT = {"campaigns": "POST campaign", "adsets": "POST adset", "ads": "POST ad"}
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 500
DSA_BENEFICIARY_SUBCODE = 3858079  # which of the two subcodes names which field: UNCONFIRMED
DSA_PAYOR_SUBCODE = 3858081
FILTER_OPERATORS = frozenset(
    {"EQUAL", "NOT_EQUAL", "CONTAIN", "NOT_CONTAIN", "IN", "NOT_IN", "GREATER_THAN",
     "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL"}
)  # fmt: skip


class GraphObjects:
    """One caller's view of the ad objects and images of its ad accounts."""

    def __init__(self, state: SimulatorState, caller: Caller) -> None:
        self._state = state
        self._caller = caller
        self.accounts = {
            account["id"]: account
            for account in state.objects["meta"]["adaccounts"].values()
            if caller.user_id in account["users"]
        }
        self.store = FacebookObjects(state, None, ad_accounts=self.accounts)

    # -- ad accounts ---------------------------------------------------------------------------

    def account(self, act_id: str) -> dict[str, Any]:
        account = self.accounts.get(act_id)
        if account is None:
            raise nonexistent_object(act_id, method="get")
        return account

    def find(self, object_id: str) -> tuple[str, dict[str, Any]] | None:
        for kind in AD_KINDS:
            obj = self.store.get(kind, object_id)
            if obj is not None:
                return kind, obj
        return None

    # -- creating ------------------------------------------------------------------------------

    def create(self, account: dict[str, Any], kind: str, params: Params) -> dict[str, Any]:
        """Validate and create (or only validate); the Graph answer."""
        self._caller.require("ads_management")
        _check_types(ENDPOINT[kind], params)
        body = coerce(ENDPOINT[kind], params.without_transport())
        execution = body.pop("execution_options", None) or []
        _refuse_writes_on_closed(account)
        body["adAccountId"] = account["id"]
        getattr(self, f"_validate_{kind}")(account, body)
        if "validate_only" in execution:
            return {"success": True}
        created = self.store.create(kind, body, client_request_key="")
        if kind == "ads":
            meta_review.submit(created, self._state.meta.review_rules)
        return {"id": created["id"]}

    def _validate_campaigns(self, account: dict[str, Any], body: dict[str, Any]) -> None:
        validate_campaign(body)

    def _validate_adsets(self, account: dict[str, Any], body: dict[str, Any]) -> None:
        campaign = validate_adset(body, self.store.find_live)
        if str(campaign.get("account_id")) != account["account_id"]:
            raise nonexistent_object(str(body["campaign_id"]), field="campaign_id")
        countries = body["targeting"]["geo_locations"].get("countries", [])
        if targets_eu(countries):
            for name, subcode in (
                ("dsa_beneficiary", DSA_BENEFICIARY_SUBCODE),
                ("dsa_payor", DSA_PAYOR_SUBCODE),
            ):
                if not str(body.get(name) or "").strip():
                    raise invalid_parameter(
                        name,
                        "is required when the ad set targets the European Union (Digital "
                        "Services Act)",
                        subcode,  # type: ignore[arg-type]
                    )
        owner, field = (body, "daily_budget") if "daily_budget" in body else (campaign, "")
        daily = owner.get("daily_budget")
        if daily is not None:
            minimum = min_daily_budget(account["currency"], str(body["optimization_goal"]))
            if int(daily) < minimum:
                raise invalid_parameter(
                    field or "daily_budget",
                    f"must be at least {minimum} ({account['currency']} minor units) for "
                    f"optimization_goal {body['optimization_goal']}; got {daily}",
                    Subcode.BUDGET_TOO_LOW,
                )

    def _validate_adcreatives(self, account: dict[str, Any], body: dict[str, Any]) -> None:
        validate_adcreative(body)
        spec = body["object_story_spec"]
        page = self._state.objects["meta"]["pages"].get(str(spec["page_id"]))
        if page is None or self._caller.user_id not in page["users"]:
            raise nonexistent_object(str(spec["page_id"]), field="object_story_spec.page_id")
        instagram = spec.get("instagram_user_id")
        linked = page.get("instagram_business_account", {}).get("id")
        if instagram is not None and str(instagram) != linked:
            raise invalid_parameter(
                "object_story_spec.instagram_user_id",
                f"{instagram} is not the Instagram account of Page {page['id']}",
            )
        image_hash = spec["link_data"].get("image_hash")
        if image_hash is not None and self.image(account, str(image_hash)) is None:
            raise invalid_parameter(
                "object_story_spec.link_data.image_hash",
                f"{image_hash} is not an image of ad account {account['id']}",
            )

    def _validate_ads(self, account: dict[str, Any], body: dict[str, Any]) -> None:
        adset = validate_ad(body, self.store.find_live)
        creative = self.store.find_live("adcreatives", str(body["creative"]["creative_id"]))
        for obj, path in ((adset, "adset_id"), (creative, "creative.creative_id")):
            if obj is None or str(obj.get("account_id")) != account["account_id"]:
                raise nonexistent_object(str(body.get("adset_id")), field=path)

    # -- images --------------------------------------------------------------------------------

    def upload_image(self, account: dict[str, Any], params: Params) -> dict[str, Any]:
        self._caller.require("ads_management")
        _check_types("POST act/adimages", params)
        _refuse_writes_on_closed(account)
        uploads: list[tuple[str, bytes]] = []
        encoded = params.get("bytes")
        if isinstance(encoded, str):
            try:
                uploads.append(("bytes", base64.b64decode(encoded, validate=True)))
            except (binascii.Error, ValueError):
                raise invalid_parameter("bytes", "is not valid base64") from None
        uploads += [(name, data) for name, data in params.files.values()]
        if not uploads:
            raise invalid_parameter(
                "bytes", "or an image file is required", Subcode.MISSING_PARAMETER
            )
        images = {key: self._store_image(account, key, data) for key, data in uploads}
        return {"images": images}

    def _store_image(self, account: dict[str, Any], key: str, data: bytes) -> dict[str, Any]:
        try:
            info = image_info(data)
        except NotAnImage as exc:
            raise invalid_parameter("bytes" if key == "bytes" else "filename", str(exc)) from None
        digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
        image_id = f"{account['account_id']}:{digest}"
        store = self._state.objects["meta"]["adimages"]
        image = store.get(image_id)
        if image is None:  # the same bytes always give the same hash, stored once
            image = {
                "id": image_id,
                "account_id": account["account_id"],
                "hash": digest,
                "name": key if key != "bytes" else f"{digest}.{info.format}",
                "width": info.width,
                "height": info.height,
                "url": f"https://scontent.xx.fbcdn.net/v/t45.1600-4/{digest}.{info.format}",
                "status": "ACTIVE",
                "created_time": graph_time(),
                "bytes_length": len(data),
            }
            store[image_id] = image
        return {k: image[k] for k in ("hash", "url", "width", "height", "name")}

    def image(self, account: Mapping[str, Any], image_hash: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._state.objects["meta"]["adimages"].get(
            f"{account['account_id']}:{image_hash}"
        )
        return found

    def list_images(self, account: dict[str, Any], params: Params) -> list[dict[str, Any]]:
        hashes = params.get("hashes")
        images = [
            image
            for image in self._state.objects["meta"]["adimages"].values()
            if image["account_id"] == account["account_id"]
            and (not isinstance(hashes, list) or image["hash"] in hashes)
        ]
        return [{k: v for k, v in i.items() if k != "bytes_length"} for i in images]

    # -- reading -------------------------------------------------------------------------------

    def view(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """The object's full Graph view (callers narrow it to the requested fields)."""
        view = graph_view(obj)
        view["configured_status"] = obj["status"]
        normal = self.store.effective_status(kind, obj)
        if kind == "ads":
            account = self.accounts.get(f"act_{obj['account_id']}", {})
            if normal == "ACTIVE" and not account.get("funding_source_details"):
                normal = "PENDING_BILLING_INFO"
            view.update(meta_review.view(obj, normal))
        elif kind != "adcreatives":
            view["effective_status"] = normal
        return {k: v for k, v in view.items() if v is not None}

    def list(self, account: dict[str, Any], kind: str, params: Params) -> list[dict[str, Any]]:
        """The account's objects of `kind` after `effective_status` and `filtering`."""
        items = [
            self.view(kind, obj)
            for obj in self.store.visible(kind)
            if str(obj.get("account_id")) == account["account_id"]
        ]
        wanted = params.get("effective_status")
        if isinstance(wanted, list):
            items = [i for i in items if i.get("effective_status") in wanted]
        else:  # Graph leaves deleted objects out unless asked for them
            items = [i for i in items if i.get("effective_status") != "DELETED"]
        for rule in _filters(params.get("filtering")):
            items = [i for i in items if _matches(i, *rule)]
        return items

    # -- updating ------------------------------------------------------------------------------

    def update(self, kind: str, obj: dict[str, Any], params: Params) -> dict[str, Any]:
        self._caller.require("ads_management")
        if kind not in UPDATE_ENDPOINT:
            raise invalid_parameter("id", f"{kind} cannot be updated through the simulator")
        _check_types(UPDATE_ENDPOINT[kind], params)
        fields = coerce(UPDATE_ENDPOINT[kind], params.without_transport())
        execution = fields.pop("execution_options", None) or []
        fields.pop("fields", None)
        if not fields:
            raise invalid_parameter("status", "or another field to update is required")
        validate_update(kind, obj, fields)
        if "validate_only" not in execution:
            self.store.update(kind, obj, fields)
        return {"success": True}

    def delete(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        self._caller.require("ads_management")
        if obj["status"] == "DELETED":
            raise nonexistent_object(str(obj["id"]), method="delete")
        if kind == "adcreatives":
            obj["status"] = "DELETED"
        else:
            self.store.update(kind, obj, {"status": "DELETED"})
        return {"success": True}


def narrow(view: Mapping[str, Any], fields: Any) -> dict[str, Any]:
    """Graph returns only `id` unless `fields=` names more."""
    names = _field_names(fields)
    return {k: v for k, v in view.items() if k == "id" or k in names}


def _field_names(fields: Any) -> set[str]:
    if isinstance(fields, list):
        return {str(f) for f in fields}
    if isinstance(fields, str):
        return {f.strip() for f in fields.split(",") if f.strip()}
    return set()


def page(items: list[dict[str, Any]], params: Params, fields: Any) -> dict[str, Any]:
    """Graph's list envelope with cursor paging (`after` present even on the last page)."""
    try:
        limit = min(MAX_PAGE_SIZE, max(1, int(params.get("limit") or DEFAULT_PAGE_SIZE)))
        start = int(base64.b64decode(params.get("after") or "MA==").decode() or 0)
    except (ValueError, binascii.Error):
        raise invalid_parameter("after", "is not a valid cursor") from None
    chunk = items[start : start + limit]
    cursors = {
        "before": base64.b64encode(str(start).encode()).decode(),
        "after": base64.b64encode(str(start + len(chunk)).encode()).decode(),
    }
    body: dict[str, Any] = {
        "data": [narrow(item, fields) for item in chunk],
        "paging": {"cursors": cursors},
    }
    if start + len(chunk) < len(items):
        body["paging"]["next"] = f"?after={cursors['after']}&limit={limit}"
    if params.get("summary") in (True, "true", "1"):
        body["summary"] = {"total_count": len(items)}
    return body


def _check_types(endpoint: str, params: Params) -> None:
    problems = check_params(endpoint, params.values)
    if problems:
        field, _, problem = problems[0].partition(": ")
        raise invalid_parameter(field, problem)


def _refuse_writes_on_closed(account: Mapping[str, Any]) -> None:
    # The exact error for writes on a disabled or closed account is UNCONFIRMED; Graph's
    # code-100 envelope with Meta's wording is the simulator's choice.
    if account["account_status"] in (2, 100, 101):
        raise invalid_parameter(
            "account_id",
            f"ad account {account['id']} is disabled (account_status "
            f"{account['account_status']}); it cannot run ads",
        )


def _filters(value: Any) -> Iterable[tuple[str, str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_parameter("filtering", "must be a list of {field, operator, value}")
    rules = []
    for rule in value:
        if not isinstance(rule, dict) or rule.get("operator") not in FILTER_OPERATORS:
            raise invalid_parameter("filtering", f"has an invalid rule {rule!r}")
        field = str(rule.get("field", ""))
        # "campaign.name", "ad.effective_status": the entity prefix names the object listed.
        field = field.split(".", 1)[1] if "." in field else field
        rules.append((field, str(rule["operator"]), rule.get("value")))
    return rules


def _matches(item: Mapping[str, Any], field: str, operator: str, value: Any) -> bool:
    actual = item.get(field)
    if operator == "EQUAL":
        return bool(actual == value or str(actual) == str(value))
    if operator == "NOT_EQUAL":
        return str(actual) != str(value)
    if operator == "CONTAIN":
        return actual is not None and str(value) in str(actual)
    if operator == "NOT_CONTAIN":
        return actual is None or str(value) not in str(actual)
    if operator in ("IN", "NOT_IN"):
        inside = isinstance(value, list) and (actual in value or str(actual) in map(str, value))
        return inside if operator == "IN" else not inside
    return _compare(actual, operator, value)


def _compare(actual: Any, operator: str, value: Any) -> bool:
    if actual is None:
        return False
    actual = _unix_if_graph_time(actual)
    try:
        left, right = float(actual), float(value)
    except (TypeError, ValueError):
        left, right = str(actual), str(value)  # type: ignore[assignment]
    return {
        "GREATER_THAN": left > right,
        "GREATER_THAN_OR_EQUAL": left >= right,
        "LESS_THAN": left < right,
        "LESS_THAN_OR_EQUAL": left <= right,
    }[operator]


def _unix_if_graph_time(value: Any) -> Any:
    """A Graph timestamp (`2025-10-21T09:30:00+0000`, as `updated_time` reads) compares as
    unix seconds: filtering on `updated_time` takes a unix time (Airbyte's incremental reads,
    meta-marketing-api.md §1)."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:
        try:
            return datetime.fromisoformat(value.replace("+0000", "+00:00")).timestamp()
        except ValueError:
            return value
    return value
