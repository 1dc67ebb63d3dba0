"""Regenerate `flightdeck/simulators/specs/meta-graph-v23.0.sdk-params.json`: the parameter
types the official Meta Business SDK (`facebook_business`, the release that pins Graph v23.0)
checks for each Graph call Flightdeck makes, and the field types of the ad objects nested in
them (targeting, object_story_spec, promoted_object …).

Only data is extracted (type names and enum values); no SDK code is copied. Run it with an
interpreter that has the SDK installed (it is not a Flightdeck dependency):

    python -m venv /tmp/fbsdk && /tmp/fbsdk/bin/pip install facebook_business==23.0.3
    /tmp/fbsdk/bin/python scripts/extract_meta_sdk_spec.py [TARGET]

How: every `create_*` / `api_update` / `get_*` method of the SDK builds a
`TypeChecker(param_types, enums)` for its request; calling it with `pending=True` (no HTTP)
while `TypeChecker.__init__` is wrapped captures both tables.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "flightdeck" / "simulators" / "specs" / "meta-graph-v23.0.sdk-params.json"
# Nested ad-object types whose fields are checked too (reachable from the calls we make).
NESTED = (
    "Targeting",
    "TargetingAutomation",
    "TargetingGeoLocation",
    "TargetingGeoLocationRegion",
    "TargetingGeoLocationCity",
    "TargetingGeoLocationZip",
    "IDName",
    "AdCreativeObjectStorySpec",
    "AdCreativeLinkData",
    "AdCreativeLinkDataCallToAction",
    "AdCreativeLinkDataCallToActionValue",
    "AdPromotedObject",
    "AdCreative",
)
_QUALNAME = re.compile(r"^[A-Z]\w*\.[A-Z]\w*$")


def _enum_values(values: Any) -> list[str]:
    """The values of an SDK enum class's `__dict__.values()`, without its dunder entries."""
    return sorted(
        v
        for v in values
        if isinstance(v, str) and not v.startswith("facebook_business.") and not _QUALNAME.match(v)
    )


def capture_calls() -> dict[str, Any]:
    from facebook_business import typechecker
    from facebook_business.adobjects.ad import Ad
    from facebook_business.adobjects.adaccount import AdAccount
    from facebook_business.adobjects.adset import AdSet
    from facebook_business.adobjects.campaign import Campaign
    from facebook_business.api import FacebookAdsApi
    from facebook_business.session import FacebookSession

    captured: list[tuple[dict[str, str], dict[str, Any]]] = []
    original = typechecker.TypeChecker.__init__

    def spy(self: Any, type_check_info: Any, type_check_enum: Any) -> None:
        captured.append((dict(type_check_info), dict(type_check_enum)))
        original(self, type_check_info, type_check_enum)

    typechecker.TypeChecker.__init__ = spy  # type: ignore[method-assign]
    api = FacebookAdsApi(FacebookSession("app", "secret", "token"), api_version="v23.0")
    account = AdAccount("act_1", api=api)
    calls = {
        "POST act/campaigns": lambda: account.create_campaign(pending=True),
        "POST act/adsets": lambda: account.create_ad_set(pending=True),
        "POST act/adcreatives": lambda: account.create_ad_creative(pending=True),
        "POST act/ads": lambda: account.create_ad(pending=True),
        "POST act/adimages": lambda: account.create_ad_image(pending=True),
        "GET act/campaigns": lambda: account.get_campaigns(pending=True),
        "GET act/adsets": lambda: account.get_ad_sets(pending=True),
        "GET act/adcreatives": lambda: account.get_ad_creatives(pending=True),
        "GET act/ads": lambda: account.get_ads(pending=True),
        "GET act/adimages": lambda: account.get_ad_images(pending=True),
        "POST campaign": lambda: Campaign("1", api=api).api_update(pending=True),
        "POST adset": lambda: AdSet("1", api=api).api_update(pending=True),
        "POST ad": lambda: Ad("1", api=api).api_update(pending=True),
        "DELETE campaign": lambda: Campaign("1", api=api).api_delete(pending=True),
        "DELETE adset": lambda: AdSet("1", api=api).api_delete(pending=True),
        "DELETE ad": lambda: Ad("1", api=api).api_delete(pending=True),
    }
    endpoints: dict[str, Any] = {}
    try:
        for name, call in calls.items():
            captured.clear()
            call()
            param_types, enums = captured[-1]
            endpoints[name] = {
                "params": dict(sorted(param_types.items())),
                "enums": {k: _enum_values(v) for k, v in sorted(enums.items())},
            }
    finally:
        typechecker.TypeChecker.__init__ = original  # type: ignore[method-assign]
    return endpoints


def nested_types() -> dict[str, Any]:
    types: dict[str, Any] = {}
    for name in NESTED:
        module = importlib.import_module(f"facebook_business.adobjects.{name.lower()}")
        cls = getattr(module, name)
        enum_info = cls._get_field_enum_info()
        types[name] = {
            "fields": dict(sorted(cls._field_types.items())),
            "enums": {k: _enum_values(v) for k, v in sorted(enum_info.items())},
        }
    return types


def main() -> None:
    from facebook_business import apiconfig

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET
    spec = {
        "source": f"facebook_business {apiconfig.ads_api_config['SDK_VERSION']} (PyPI)",
        "apiVersion": apiconfig.ads_api_config["API_VERSION"],
        "note": "Extracted by scripts/extract_meta_sdk_spec.py: the SDK's TypeChecker tables "
        "for each call, and the field types of the nested ad objects.",
        "endpoints": capture_calls(),
        "types": nested_types(),
    }
    target.write_text(json.dumps(spec, indent=1, sort_keys=False) + "\n")
    print(f"wrote {target} ({target.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
