"""The spec extract the Reddit simulator validates against: current with Reddit's official
spec, and read the way the simulator needs (scopes, policies, query decoding, field paths)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from flightdeck.simulators.reddit_spec import SPEC_PATH, reddit_spec

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL = ROOT.parent / "shared" / "platforms" / "reddit-ads-v3.openapi.json"


@pytest.mark.skipif(not OFFICIAL.exists(), reason="Reddit's official spec is not beside the repo")
def test_extract_is_current() -> None:
    """Regenerate with `scripts/extract_reddit_spec.py` when this fails."""
    spec = importlib.util.spec_from_file_location(
        "extract", ROOT / "scripts/extract_reddit_spec.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.extract(json.loads(OFFICIAL.read_text())) == json.loads(SPEC_PATH.read_text())


def test_operations_carry_scopes_and_policies() -> None:
    create = reddit_spec().operation("POST", "/ad_accounts/{ad_account_id}/campaigns")
    assert create is not None and create.scopes == {"adsedit"}
    [policy] = create.policies
    assert (policy.name, policy.quota, policy.window) == ("ads-campaign-management-write", 200, 60)
    listing = reddit_spec().operation("get", "/ad_accounts/{ad_account_id}/funding_instruments")
    assert listing is not None and listing.scopes == {"adsread"}
    assert listing.policies[0].name == "ads-funding-instruments"
    assert reddit_spec().operation("DELETE", "/campaigns/{campaign_id}") is None


def test_query_parameters_are_decoded_per_schema() -> None:
    listing = reddit_spec().operation("GET", "/ad_accounts/{ad_account_id}/ads")
    assert listing is not None
    values, problems = listing.decode_query(
        {"id": "1,2", "page.size": "", "configured_status": "PAUSED", "unknown": "x"}
    )
    assert values == {"id": ["1", "2"], "configured_status": ["PAUSED"]} and problems == []
    _, problems = listing.decode_query({"page.size": "ten"})
    assert problems == [{"field": "page.size", "message": "'ten' is not of type 'integer'"}]


def test_read_only_fields_are_not_writable() -> None:
    patch = reddit_spec().operation("PATCH", "/ads/{ad_id}")
    assert patch is not None
    sent = {"name": "renamed", "ad_group_id": "9", "id": "1", "post_url": "x", "post_id": "t3_1"}
    assert patch.writable(sent) == {"name": "renamed", "post_id": "t3_1"}
