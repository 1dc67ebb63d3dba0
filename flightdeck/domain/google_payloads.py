"""Our campaign-set entities as Google Ads API v25 resources (google-ads-api.md §2, §7), and
the rules Google applies, checked before anything is sent (`GooglePayloadError` names our
field, like a 400 would).

Mapping (§7):
- campaign → a SEARCH campaign with its own, non-shared budget (`amountMicros` = daily
  amount × 1e6, a multiple of 0.01); a lifetime budget is refused (CUSTOM_PERIOD is
  UNCONFIRMED for Search). Bidding from our objective: conversions-like → maximizeConversions,
  traffic/consideration → targetSpend (Maximize Clicks), awareness → targetImpressionShare;
  manualCpc when every ad group bids manual CPC (known when a whole tree is created). Network
  settings: Google Search and search partners, no Display. EU political advertising: declared
  as not contained (campaign sets carry no such flag; ASSUMED). Created PAUSED; ENABLED after.
- ad group → SEARCH_STANDARD with `cpcBidMicros` from a manual CPC bid.
- keyword → an ad group criterion, match type BROAD (Google's default; our keywords carry no
  match type), `negative` for excluded keywords. Text ≤ 80 characters and ≤ 10 words.
- ad → a responsive search ad: headlines are our `headline`'s lines (3–15, ≤ 30 characters
  each), descriptions our `description`'s lines (2–4, ≤ 90), final URL, and `displayUrl`'s
  path as path1/path2 (≤ 15 each). RSAs have no name: the ad's adoption marker goes on a label
  of its own (`ad_label`, §3's adoption table).

Adoption markers (`domain.adoption`, issue 8 item 2): campaigns and ad groups are created with
the entity's marker as their name's suffix (` [fd:<12 hex>]`), so names leave room for it
(`MARKER_BYTES`); a later rename sends the plain name (the object is mapped by id by then).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from flightdeck.domain.adoption import with_ref
from flightdeck.domain.campaign_sets import AdGroupSpec, AdSpec, CampaignSpec, KeywordSpec

MICROS = 1_000_000
MIN_UNIT_MICROS = 10_000
HEADLINES, DESCRIPTIONS = (3, 15), (2, 4)
HEADLINE_MAX, DESCRIPTION_MAX, PATH_MAX = 30, 90, 15
KEYWORD_MAX_CHARS, KEYWORD_MAX_WORDS = 80, 10
NAME_MAX = 255
MARKER_BYTES = len(with_ref("", "0" * 12))  # " [fd:0123456789ab]": 18
AD_LABEL_PREFIX = "flightdeck-ad"
CONVERSION_OBJECTIVES = frozenset({"conversions", "lead_generation", "catalog_sales"})
CLICK_OBJECTIVES = frozenset({"traffic", "consideration"})
BIDDING_FIELDS = ("manualCpc", "maximizeConversions", "targetSpend", "targetImpressionShare")
NOT_DECLARED = "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING"


class GooglePayloadError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def status(ours: str) -> str:
    """ENABLED only for active; everything else waits PAUSED (drafts are not pushed live)."""
    return "ENABLED" if ours == "active" else "PAUSED"


def micros(amount: Decimal, field: str) -> str:
    value = amount * MICROS
    if value != value.to_integral_value() or int(value) % MIN_UNIT_MICROS:
        raise GooglePayloadError(field, "must be a whole number of cents")
    return str(int(value))


def campaign_name(name: str, ref: str | None = None) -> str:
    """The name as sent: with the adoption marker when one is given. The limit leaves room for
    the marker either way, so a name valid now stays valid for the create."""
    if any(ch in name for ch in "\x00\n\r"):
        raise GooglePayloadError("name", "may not contain line breaks or NUL")
    if len(name.encode()) > NAME_MAX - MARKER_BYTES:
        raise GooglePayloadError(
            "name", f"at most {NAME_MAX - MARKER_BYTES} bytes on Google Ads (room for the marker)"
        )
    return with_ref(name, ref)


def budget(spec: CampaignSpec) -> dict[str, Any]:
    if spec.budget is None:
        raise GooglePayloadError("budget", "a Google Ads campaign needs a campaign budget")
    if spec.budget.type != "daily":
        raise GooglePayloadError("budget.type", "only daily budgets are supported on Google")
    return {
        "amountMicros": micros(spec.budget.amount, "budget.amount"),
        "explicitlyShared": False,
        "deliveryMethod": "STANDARD",
    }


def bidding(spec: CampaignSpec, ad_groups: list[AdGroupSpec] | None = None) -> dict[str, Any]:
    """The campaign's bidding oneof, as `{field: {...}}`."""
    if ad_groups and all(group.bid_strategy == "manual_cpc" for group in ad_groups):
        return {"manualCpc": {}}
    if spec.objective in CONVERSION_OBJECTIVES:
        return {"maximizeConversions": {}}
    if spec.objective in CLICK_OBJECTIVES:
        return {"targetSpend": {}}
    if spec.objective == "awareness":
        return {
            "targetImpressionShare": {
                "location": "ANYWHERE_ON_PAGE",
                "locationFractionMicros": "500000",
            }
        }
    raise GooglePayloadError("objective", f"{spec.objective!r} has no Google Search equivalent")


def campaign_create(
    spec: CampaignSpec,
    resource_name: str,
    budget_name: str,
    ad_groups: list[AdGroupSpec] | None = None,
    *,
    initial_status: str = "PAUSED",
    ref: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceName": resource_name,
        "name": campaign_name(spec.name, ref),
        "status": initial_status,
        "advertisingChannelType": "SEARCH",
        "campaignBudget": budget_name,
        "networkSettings": {
            "targetGoogleSearch": True,
            "targetSearchNetwork": True,
            "targetContentNetwork": False,
            "targetPartnerSearchNetwork": False,
        },
        "containsEuPoliticalAdvertising": NOT_DECLARED,
        **bidding(spec, ad_groups),
    }
    body.update(_schedule(spec))
    return body


def _schedule(spec: CampaignSpec | None) -> dict[str, str]:
    """`startDateTime`/`endDateTime` ("yyyy-MM-dd HH:mm:ss", in the account's time zone; ours
    are UTC instants, sent as their UTC wall time: ASSUMED the account is on UTC)."""
    out: dict[str, str] = {}
    if spec is not None and spec.start_time is not None:
        out["startDateTime"] = spec.start_time.strftime("%Y-%m-%d %H:%M:%S")
    if spec is not None and spec.end_time is not None:
        out["endDateTime"] = spec.end_time.strftime("%Y-%m-%d %H:%M:%S")
    return out


def campaign_changes(spec: CampaignSpec, base: CampaignSpec | None) -> dict[str, Any]:
    """The campaign fields whose Google value differs from what was last pushed."""
    changes: dict[str, Any] = {}
    if base is None or spec.name != base.name:
        changes["name"] = campaign_name(spec.name)
    if base is None or status(spec.status) != status(base.status):
        changes["status"] = status(spec.status)
    wanted, before = bidding(spec), (bidding(base) if base is not None else None)
    if wanted != before:
        changes.update(wanted)
    schedule, old = _schedule(spec), _schedule(base)
    for key in ("startDateTime", "endDateTime"):
        if schedule.get(key) != old.get(key) and key in schedule:
            changes[key] = schedule[key]
    return changes


def budget_changes(spec: CampaignSpec, base: CampaignSpec | None) -> dict[str, Any]:
    wanted = budget(spec)["amountMicros"]
    before = budget(base)["amountMicros"] if base is not None and base.budget else None
    return {} if wanted == before else {"amountMicros": wanted}


def ad_group_create(
    spec: AdGroupSpec, resource_name: str, campaign: str, ref: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceName": resource_name,
        "name": _ad_group_name(spec.name, ref),
        "campaign": campaign,
        "status": status(spec.status),
        "type": "SEARCH_STANDARD",
    }
    if bid := cpc_bid(spec):
        body["cpcBidMicros"] = bid
    return body


def _ad_group_name(name: str, ref: str | None = None) -> str:
    if len(name) + MARKER_BYTES >= NAME_MAX:
        raise GooglePayloadError(
            "name", f"fewer than {NAME_MAX - MARKER_BYTES} characters on Google Ads"
        )
    return campaign_name(name, ref)


def cpc_bid(spec: AdGroupSpec) -> str | None:
    if spec.bid_strategy == "manual_cpc" and spec.bid_amount is not None:
        return micros(spec.bid_amount, "bidAmount")
    if spec.bid_strategy in ("manual_cpm", "manual_cpv"):
        raise GooglePayloadError("bidStrategy", f"{spec.bid_strategy} is not for Search ads")
    return None


def ad_group_changes(spec: AdGroupSpec, base: AdGroupSpec | None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if base is None or spec.name != base.name:
        changes["name"] = _ad_group_name(spec.name)
    if base is None or status(spec.status) != status(base.status):
        changes["status"] = status(spec.status)
    bid = cpc_bid(spec)
    if bid is not None and (base is None or bid != cpc_bid(base)):
        changes["cpcBidMicros"] = bid
    return changes


def keyword_key(keyword: KeywordSpec) -> tuple[str, bool]:
    """What identifies a criterion: text and negative are immutable on Google."""
    return (keyword.text.strip().lower(), keyword.negative)


def keyword_create(keyword: KeywordSpec, ad_group: str, index: int) -> dict[str, Any]:
    text = keyword.text.strip()
    field = f"keywords.{index}.text"
    if len(text) > KEYWORD_MAX_CHARS:
        raise GooglePayloadError(field, f"at most {KEYWORD_MAX_CHARS} characters on Google Ads")
    if len(text.split()) > KEYWORD_MAX_WORDS:
        raise GooglePayloadError(field, f"at most {KEYWORD_MAX_WORDS} words on Google Ads")
    body: dict[str, Any] = {
        "adGroup": ad_group,
        "keyword": {"text": text, "matchType": "BROAD"},
        "negative": keyword.negative,
    }
    if not keyword.negative:  # a negative keyword has no status of its own to pause
        body["status"] = status(keyword.status)
    return body


def responsive_search_ad(spec: AdSpec) -> dict[str, Any]:
    headlines = _lines(spec.headline, "headline", HEADLINES, HEADLINE_MAX)
    descriptions = _lines(spec.description or "", "description", DESCRIPTIONS, DESCRIPTION_MAX)
    rsa: dict[str, Any] = {
        "headlines": [{"text": text} for text in headlines],
        "descriptions": [{"text": text} for text in descriptions],
    }
    rsa.update(_paths(spec.display_url))
    return {"finalUrls": [spec.final_url], "responsiveSearchAd": rsa}


def _lines(text: str, field: str, count: tuple[int, int], limit: int) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    low, high = count
    if not low <= len(lines) <= high:
        raise GooglePayloadError(
            field, f"a responsive search ad needs {low}-{high} (one per line), got {len(lines)}"
        )
    for number, line in enumerate(lines, 1):
        if len(line) > limit:
            raise GooglePayloadError(field, f"line {number} is over {limit} characters")
    return lines


def _paths(display_url: str | None) -> dict[str, str]:
    if not display_url:
        return {}
    path = urlsplit(display_url if "//" in display_url else f"//{display_url}").path
    parts = [p for p in path.split("/") if p][:2]
    for part in parts:
        if len(part) > PATH_MAX:
            raise GooglePayloadError("displayUrl", f"each path part at most {PATH_MAX} characters")
    return {f"path{i}": part for i, part in enumerate(parts, 1)}


def ad_group_ad_create(spec: AdSpec, ad_group: str, resource_name: str) -> dict[str, Any]:
    return {
        "resourceName": resource_name,
        "adGroup": ad_group,
        "status": status(spec.status),
        "ad": responsive_search_ad(spec),
    }


def ad_label(ref: str) -> str:
    """The label carrying an ad's adoption marker (RSAs have no name): one per ad entity,
    `flightdeck-ad [fd:<12 hex>]`, so a lookup by it can only find that entity's ad."""
    return with_ref(AD_LABEL_PREFIX, ref)
