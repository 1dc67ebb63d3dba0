"""The Google Ads API v25 resource fields Flightdeck touches, transcribed from the protos
(googleapis/googleapis `google/ads/googleads/v25/resources/*.proto`, `common/ad_type_infos.proto`,
`common/ad_asset.proto`, `common/criteria.proto`, `common/bidding.proto`), in REST's
lowerCamelCase (../shared/platforms/google-ads-api.md §1-§2).

A field is `Field(kind, behavior)`: `kind` is "string", "int64" (a JSON *string* of digits),
"double", "bool", "enum:<values>", "message:<Name>" or a list of one of those ("[]…");
`behavior` is "" (settable), "IMMUTABLE" (settable on create only) or "OUTPUT_ONLY".

`check_resource(name, obj, creating=…)` is what both the simulator and the client tests use:
unknown fields, wrong JSON types and output-only fields come back as Google's `fieldError` /
`requestError` entries with their path, so "every request our client sends validates against
the documented resource fields" is a test over this one table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    kind: str
    behavior: str = ""

    @property
    def repeated(self) -> bool:
        return self.kind.startswith("[]")

    @property
    def scalar(self) -> str:
        return self.kind.removeprefix("[]")


def _f(kind: str, behavior: str = "") -> Field:
    return Field(kind, behavior)


OUT, IMM = "OUTPUT_ONLY", "IMMUTABLE"
STATUS = "enum:ENABLED,PAUSED,REMOVED"
BUDGET_STATUS = "enum:ENABLED,REMOVED"

MESSAGES: dict[str, dict[str, Field]] = {
    "ManualCpc": {"enhancedCpcEnabled": _f("bool")},
    "ManualCpm": {},
    "MaximizeConversions": {
        "targetCpaMicros": _f("int64"),
        "cpcBidCeilingMicros": _f("int64"),
        "cpcBidFloorMicros": _f("int64"),
    },
    "MaximizeConversionValue": {"targetRoas": _f("double")},
    "TargetSpend": {"targetSpendMicros": _f("int64"), "cpcBidCeilingMicros": _f("int64")},
    "TargetCpa": {"targetCpaMicros": _f("int64"), "cpcBidCeilingMicros": _f("int64")},
    "TargetRoas": {"targetRoas": _f("double"), "cpcBidCeilingMicros": _f("int64")},
    "TargetImpressionShare": {
        "location": _f("enum:ANYWHERE_ON_PAGE,TOP_OF_PAGE,ABSOLUTE_TOP_OF_PAGE"),
        "locationFractionMicros": _f("int64"),
        "cpcBidCeilingMicros": _f("int64"),
    },
    "NetworkSettings": {
        "targetGoogleSearch": _f("bool"),
        "targetSearchNetwork": _f("bool"),
        "targetContentNetwork": _f("bool"),
        "targetPartnerSearchNetwork": _f("bool"),
        "targetYoutube": _f("bool"),
        "targetGoogleTvNetwork": _f("bool"),
    },
    "AdTextAsset": {
        "text": _f("string"),
        "pinnedField": _f("enum:HEADLINE_1,HEADLINE_2,HEADLINE_3,DESCRIPTION_1,DESCRIPTION_2"),
    },
    "ResponsiveSearchAdInfo": {
        "headlines": _f("[]message:AdTextAsset"),
        "descriptions": _f("[]message:AdTextAsset"),
        "path1": _f("string"),
        "path2": _f("string"),
    },
    "Ad": {
        "resourceName": _f("string", IMM),
        "id": _f("int64", OUT),
        "finalUrls": _f("[]string"),
        "finalUrlSuffix": _f("string"),
        "trackingUrlTemplate": _f("string"),
        "type": _f("enum:RESPONSIVE_SEARCH_AD,EXPANDED_TEXT_AD,TEXT_AD", OUT),
        "responsiveSearchAd": _f("message:ResponsiveSearchAdInfo"),
    },
    "KeywordInfo": {
        "text": _f("string"),
        "matchType": _f("enum:EXACT,PHRASE,BROAD"),
    },
}

# resource (GAQL name) -> REST fields. Names from `resources/<resource>.proto`.
RESOURCES: dict[str, dict[str, Field]] = {
    "campaign_budget": {
        "resourceName": _f("string", IMM),
        "id": _f("int64", OUT),
        "name": _f("string"),
        "amountMicros": _f("int64"),
        "totalAmountMicros": _f("int64"),
        "status": _f(BUDGET_STATUS, OUT),
        "deliveryMethod": _f("enum:STANDARD,ACCELERATED"),
        "explicitlyShared": _f("bool"),
        "referenceCount": _f("int64", OUT),
        "period": _f("enum:DAILY,CUSTOM_PERIOD", IMM),
        "type": _f("enum:STANDARD,SMART_CAMPAIGN,LOCAL_SERVICES", IMM),
    },
    "campaign": {
        "resourceName": _f("string", IMM),
        "id": _f("int64", OUT),
        "name": _f("string"),
        "status": _f(STATUS),
        "servingStatus": _f("enum:SERVING,NONE,ENDED,PENDING,SUSPENDED", OUT),
        "primaryStatus": _f("enum:ELIGIBLE,PAUSED,REMOVED,ENDED,PENDING,NOT_ELIGIBLE", OUT),
        "primaryStatusReasons": _f("[]string", OUT),
        "advertisingChannelType": _f("enum:SEARCH,DISPLAY,SHOPPING,VIDEO,PERFORMANCE_MAX", IMM),
        "campaignBudget": _f("string"),
        "biddingStrategyType": _f("string", OUT),
        "biddingStrategy": _f("string"),
        "manualCpc": _f("message:ManualCpc"),
        "manualCpm": _f("message:ManualCpm"),
        "maximizeConversions": _f("message:MaximizeConversions"),
        "maximizeConversionValue": _f("message:MaximizeConversionValue"),
        "targetSpend": _f("message:TargetSpend"),
        "targetCpa": _f("message:TargetCpa"),
        "targetRoas": _f("message:TargetRoas"),
        "targetImpressionShare": _f("message:TargetImpressionShare"),
        "networkSettings": _f("message:NetworkSettings"),
        "containsEuPoliticalAdvertising": _f(
            "enum:CONTAINS_EU_POLITICAL_ADVERTISING,DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING"
        ),
        "startDateTime": _f("string"),
        "endDateTime": _f("string"),
        "labels": _f("[]string", OUT),
    },
    "ad_group": {
        "resourceName": _f("string", IMM),
        "id": _f("int64", OUT),
        "name": _f("string"),
        "status": _f(STATUS),
        "type": _f("enum:SEARCH_STANDARD,DISPLAY_STANDARD,SEARCH_DYNAMIC_ADS", IMM),
        "campaign": _f("string", IMM),
        "cpcBidMicros": _f("int64"),
        "primaryStatus": _f("string", OUT),
        "primaryStatusReasons": _f("[]string", OUT),
        "labels": _f("[]string", OUT),
    },
    "ad_group_ad": {
        "resourceName": _f("string", IMM),
        "status": _f(STATUS),
        "adGroup": _f("string", IMM),
        "ad": _f("message:Ad", IMM),
        "primaryStatus": _f("string", OUT),
        "primaryStatusReasons": _f("[]string", OUT),
        "labels": _f("[]string", OUT),
    },
    "ad": MESSAGES["Ad"],
    "ad_group_criterion": {
        "resourceName": _f("string", IMM),
        "criterionId": _f("int64", OUT),
        "status": _f(STATUS),
        "adGroup": _f("string", IMM),
        "type": _f("enum:KEYWORD,PLACEMENT,AGE_RANGE,GENDER,LOCATION", OUT),
        "negative": _f("bool", IMM),
        "cpcBidMicros": _f("int64"),
        "keyword": _f("message:KeywordInfo", IMM),
        "primaryStatus": _f("string", OUT),
        "labels": _f("[]string", OUT),
    },
    "label": {
        "resourceName": _f("string", IMM),
        "id": _f("int64", OUT),
        "name": _f("string"),
        "status": _f("enum:ENABLED,REMOVED", OUT),
    },
    "ad_group_ad_label": {
        "resourceName": _f("string", IMM),
        "adGroupAd": _f("string", IMM),
        "label": _f("string", IMM),
    },
    "customer": {
        "resourceName": _f("string", IMM),
        "id": _f("int64", OUT),
        "descriptiveName": _f("string"),
        "currencyCode": _f("string", IMM),
        "timeZone": _f("string", IMM),
        "manager": _f("bool", OUT),
        "testAccount": _f("bool", OUT),
        "status": _f("enum:ENABLED,CANCELED,SUSPENDED,CLOSED", OUT),
    },
    "customer_client": {
        "resourceName": _f("string", OUT),
        "clientCustomer": _f("string", OUT),
        "id": _f("int64", OUT),
        "descriptiveName": _f("string", OUT),
        "currencyCode": _f("string", OUT),
        "timeZone": _f("string", OUT),
        "manager": _f("bool", OUT),
        "testAccount": _f("bool", OUT),
        "level": _f("int64", OUT),
        "status": _f("enum:ENABLED,CANCELED,SUSPENDED,CLOSED", OUT),
    },
    "change_event": {
        "resourceName": _f("string", OUT),
        "changeDateTime": _f("string", OUT),
        "changeResourceType": _f(
            "enum:CAMPAIGN_BUDGET,CAMPAIGN,AD_GROUP,AD_GROUP_AD,AD_GROUP_CRITERION,AD", OUT
        ),
        "changeResourceName": _f("string", OUT),
        "clientType": _f(
            "enum:GOOGLE_ADS_WEB_CLIENT,GOOGLE_ADS_API,GOOGLE_ADS_EDITOR,GOOGLE_ADS_SCRIPTS", OUT
        ),
        "userEmail": _f("string", OUT),
        "resourceChangeOperation": _f("enum:CREATE,UPDATE,REMOVE", OUT),
        "changedFields": _f("string", OUT),
        "oldResource": _f("message:ChangedResource", OUT),
        "newResource": _f("message:ChangedResource", OUT),
        "campaign": _f("string", OUT),
        "adGroup": _f("string", OUT),
    },
}
# Not resources but selectable with one (FROM campaign): [P] common/metrics.proto, segments.proto.
RESOURCES["metrics"] = {
    "impressions": _f("int64", OUT),
    "clicks": _f("int64", OUT),
    "costMicros": _f("int64", OUT),
    "conversions": _f("double", OUT),
    "conversionsValue": _f("double", OUT),
}
RESOURCES["segments"] = {"date": _f("string", OUT)}
MESSAGES["ChangedResource"] = {
    "campaignBudget": _f("message:*", OUT),
    "campaign": _f("message:*", OUT),
    "adGroup": _f("message:*", OUT),
    "adGroupAd": _f("message:*", OUT),
    "adGroupCriterion": _f("message:*", OUT),
    "ad": _f("message:*", OUT),
}

Problem = tuple[tuple[str, ...], str, str]  # (field path, error family, error enum)


def check_resource(
    resource: str, obj: Any, *, creating: bool, path: tuple[str, ...] = ()
) -> list[Problem]:
    """Problems with `obj` as a `resource` body: (field path, error family, error enum).

    An unknown field name or a wrongly typed value fails proto3 JSON parsing before the API
    looks at the request; the simulator reports it as `requestError: INVALID_INPUT` (the
    exact envelope of a parse failure is UNCONFIRMED). Setting an output-only field, or an
    immutable one on update, is `fieldError: IMMUTABLE_FIELD`."""
    return _check_message(RESOURCES[resource], obj, creating=creating, path=path)


def _check_message(
    fields: Mapping[str, Field], obj: Any, *, creating: bool, path: tuple[str, ...]
) -> list[Problem]:
    if not isinstance(obj, dict):
        return [(path, "requestError", "INVALID_INPUT")]
    problems: list[Problem] = []
    for name, value in obj.items():
        spec = fields.get(name)
        where = (*path, name)
        if spec is None:
            problems.append((where, "requestError", "INVALID_INPUT"))
            continue
        if spec.behavior == OUT:
            # Proto3 JSON accepts it; the API refuses to have it set ([P] field_behavior).
            problems.append((where, "fieldError", "IMMUTABLE_FIELD"))
            continue
        if spec.behavior == IMM and not creating and name != "resourceName":
            problems.append((where, "fieldError", "IMMUTABLE_FIELD"))
            continue
        problems += _check_value(spec, value, creating=creating, path=where)
    return problems


def _check_value(
    spec: Field, value: Any, *, creating: bool, path: tuple[str, ...]
) -> list[Problem]:
    if spec.repeated:
        if not isinstance(value, list):
            return [(path, "requestError", "INVALID_INPUT")]
        element = Field(spec.scalar, spec.behavior)
        problems: list[Problem] = []
        for index, item in enumerate(value):
            problems += _check_value(element, item, creating=creating, path=(*path, str(index)))
        return problems
    kind = spec.kind
    if kind == "string":
        ok = isinstance(value, str)
    elif kind == "int64":
        # Proto3 JSON: int64 is a string of digits (a JSON number parses too, but the
        # contract and every official REST client send strings).
        ok = isinstance(value, str) and value.lstrip("-").isdigit()
    elif kind == "double":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind.startswith("enum:"):
        if not isinstance(value, str):
            return [(path, "requestError", "INVALID_INPUT")]
        ok = value in kind.removeprefix("enum:").split(",")
        if not ok:
            return [(path, "requestError", "INVALID_ENUM_VALUE")]
    elif kind == "message:*":
        ok = isinstance(value, dict)
    elif kind.startswith("message:"):
        return _check_message(
            MESSAGES[kind.removeprefix("message:")], value, creating=creating, path=path
        )
    else:  # pragma: no cover - a typo in the table above
        raise AssertionError(kind)
    return [] if ok else [(path, "requestError", "INVALID_INPUT")]


def field_spec(resource: str, camel_path: list[str]) -> Field | None:
    """The field at a camelCase path under a resource, e.g. ["networkSettings",
    "targetGoogleSearch"] of "campaign"; None when the resource has no such field."""
    fields: Mapping[str, Field] = RESOURCES.get(resource, {})
    spec: Field | None = None
    for index, name in enumerate(camel_path):
        spec = fields.get(name)
        if spec is None:
            return None
        if index < len(camel_path) - 1:
            kind = spec.scalar
            if kind == "message:*":
                return spec
            if not kind.startswith("message:"):
                return None
            fields = MESSAGES[kind.removeprefix("message:")]
    return spec
