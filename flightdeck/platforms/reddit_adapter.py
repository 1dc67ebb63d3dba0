"""`CampaignSetPlatformAdapter` for Reddit: campaign → ad group (keywords in its targeting) →
post + ad, through `RedditAdsClient`, with payloads from `domain.reddit_payloads`.

Reddit has no idempotency key (reddit-ads-api.md §6): every create names the object with our
entity's marker (`domain.adoption`, the name's ` [fd:…]` suffix), and after an ambiguous create
the caller looks it up by that marker with `find_*` — never by the bare name, which another set
in the same account may use too. Posts have no name: `find_ad_creative` lists the profile's
unpromoted posts with exactly the ad's copy. Content Reddit cannot take (an unmapped value, a
change to a field fixed at creation) is a `NonRetryableError` naming our field, raised before
any request is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from flightdeck.domain import reddit_payloads as payloads
from flightdeck.domain import reddit_vocabulary as vocab
from flightdeck.domain.adoption import ref_of, with_ref
from flightdeck.domain.campaign_sets import (
    AdGroupSpec,
    AdSpec,
    CampaignSpec,
    EntityStatus,
    EntityType,
    PlatformObject,
)
from flightdeck.platforms.campaign_set_adapter import AccountContext, CampaignSetPlatformAdapter
from flightdeck.platforms.errors import NonRetryableError
from flightdeck.platforms.reddit import RedditAdsClient

PLATFORM = "reddit"
DELETED = "DELETED"
UNKNOWN_STATUS = "UNKNOWN"

Patch = Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]]
Get = Callable[[str], Awaitable[dict[str, Any]]]


class RedditCampaignSetAdapter:
    """Pushes a campaign set's entities to one Reddit ad account per `AccountContext`."""

    platform = PLATFORM

    def __init__(
        self, client: RedditAdsClient, pixels: dict[str, str | None] | None = None
    ) -> None:
        """`pixels` (ad account -> its conversion pixel) may outlive the adapter: a worker
        keeps one per platform, so an adapter made per call does not look the pixel up again."""
        self._client = client
        self._pixels = pixels if pixels is not None else {}

    # -- campaigns ------------------------------------------------------------------------

    async def create_campaign(
        self, account: AccountContext, spec: CampaignSpec, *, ref: str | None = None
    ) -> PlatformObject:
        pixel = await self._pixel(account) if spec.budget_optimization else None
        with _payload_errors():
            data = payloads.campaign_create(
                spec, account.funding_instrument_id, conversion_pixel_id=pixel
            )
        data["name"] = with_ref(spec.name, ref)
        return _object(await self._client.create_campaign(account.account_id, data))

    async def find_campaign(
        self, account: AccountContext, name: str, *, ref: str | None = None
    ) -> PlatformObject | None:
        if ref is None:  # never adopt by a bare name
            return None
        campaigns = await self._client.list_campaigns(account.account_id)
        return _adopt(campaigns, ref, "campaign")

    async def update_campaign(
        self,
        account: AccountContext,
        platform_id: str,
        spec: CampaignSpec,
        base: CampaignSpec | None,
    ) -> PlatformObject:
        with _payload_errors():
            changes = payloads.campaign_patch(spec, base)
        return await self._patch(self._client.update_campaign, platform_id, changes, spec, base)

    # -- ad groups ------------------------------------------------------------------------

    async def create_ad_group(
        self,
        account: AccountContext,
        campaign_platform_id: str,
        campaign: CampaignSpec,
        spec: AdGroupSpec,
        *,
        ref: str | None = None,
    ) -> PlatformObject:
        pixel = await self._pixel(account)
        with _payload_errors():
            data = payloads.ad_group_create(
                campaign_platform_id, campaign, spec, conversion_pixel_id=pixel
            )
        data["name"] = with_ref(spec.name, ref)
        return _object(await self._client.create_ad_group(account.account_id, data))

    async def find_ad_group(
        self,
        account: AccountContext,
        campaign_platform_id: str,
        name: str,
        *,
        ref: str | None = None,
    ) -> PlatformObject | None:
        if ref is None:
            return None
        ad_groups = await self._client.list_ad_groups(
            account.account_id, campaign_id=campaign_platform_id
        )
        return _adopt(ad_groups, ref, "ad group")

    async def update_ad_group(
        self,
        account: AccountContext,
        platform_id: str,
        campaign: CampaignSpec,
        spec: AdGroupSpec,
        base: AdGroupSpec | None,
    ) -> PlatformObject:
        with _payload_errors():
            changes = payloads.ad_group_patch(campaign, spec, base)
        return await self._patch(self._client.update_ad_group, platform_id, changes, spec, base)

    # -- ads ------------------------------------------------------------------------------

    async def create_ad_creative(
        self, account: AccountContext, spec: AdSpec, *, ref: str | None = None
    ) -> PlatformObject:
        """The post the ad promotes, under the account's profile (a post has no field for
        `ref`: see `unmarked_creative`)."""
        profile_id = _profile(account)
        with _payload_errors():
            post_data = payloads.post_create(spec)
        post = await self._client.create_post(profile_id, post_data)
        return PlatformObject(platform_id=str(post["id"]), status="CREATED")

    async def find_ad_creative(
        self, account: AccountContext, spec: AdSpec, *, ref: str | None = None
    ) -> list[PlatformObject]:
        """Posts an ambiguous create of this ad's post may have made: the profile's posts with
        exactly its copy that no ad promotes, oldest first. Posts have no name or other field
        to mark, so this is the narrowest match Reddit allows; the caller drops the ones any
        entity maps and picks under `activities.unmarked_creates`, so it never takes a post
        another create made."""
        profile_id = _profile(account)
        with _payload_errors():
            wanted = payloads.post_create(spec)
        posts = await self._client.list_posts(profile_id)
        promoted = {
            str(ad.get("post_id"))
            for ad in await self._client.list_ads(account.account_id)
            if ad.get("post_id")
        }
        return [
            PlatformObject(platform_id=str(post["id"]), status="CREATED", adopted=True)
            for post in posts
            if str(post["id"]) not in promoted
            and all(_same(post.get(k), wanted.get(k)) for k in _POST_COPY if k in wanted)
        ]

    def unmarked_creative(
        self, account: AccountContext, spec: AdSpec
    ) -> tuple[str, dict[str, object]] | None:
        """The profile, and the copy `find_ad_creative` compares."""
        with _payload_errors():
            wanted = payloads.post_create(spec)
        return _profile(account), {k: wanted.get(k) for k in _POST_COPY}

    async def create_ad(
        self,
        account: AccountContext,
        ad_group_platform_id: str,
        spec: AdSpec,
        creative_id: str | None = None,
        *,
        ref: str | None = None,
    ) -> PlatformObject:
        """The ad promoting `creative_id` (a post), or a new post made first."""
        post_id = creative_id or (await self.create_ad_creative(account, spec)).platform_id
        with _payload_errors():
            data = payloads.ad_create(ad_group_platform_id, post_id, spec)
        data["name"] = with_ref(spec.name, ref)
        created = _object(await self._client.create_ad(account.account_id, data))
        created.extra_ids.setdefault("post_id", post_id)
        return created

    async def find_ad(
        self,
        account: AccountContext,
        ad_group_platform_id: str,
        name: str,
        *,
        ref: str | None = None,
    ) -> PlatformObject | None:
        if ref is None:
            return None
        ads = await self._client.list_ads(account.account_id, ad_group_ids=[ad_group_platform_id])
        return _adopt(ads, ref, "ad")

    async def update_ad(
        self, account: AccountContext, platform_id: str, spec: AdSpec, base: AdSpec | None
    ) -> PlatformObject:
        with _payload_errors():
            changes = payloads.ad_patch(spec, base)
        return await self._patch(self._client.update_ad, platform_id, changes, spec, base)

    # -- status ---------------------------------------------------------------------------

    async def set_status(
        self,
        account: AccountContext,
        entity_type: EntityType,
        platform_id: str,
        status: EntityStatus | str,
    ) -> PlatformObject:
        """PATCH `configured_status` (paused → PAUSED, active → ACTIVE, archived, deleted).
        Reddit refuses any change to a deleted object, so a repeat after a lost answer reads
        the object back and succeeds if it already has the status."""
        with _payload_errors("status"):
            wanted = vocab.reddit_status(status)
        patch, get = self._status_calls(entity_type)
        try:
            updated = await patch(platform_id, {"configured_status": wanted})
        except NonRetryableError as exc:
            if exc.status_code != 400:
                raise
            current = await get(platform_id)
            if current.get("configured_status") != wanted:
                raise
            return _object(current)
        return _object(updated, changed_fields=["configured_status"])

    # -- plumbing -------------------------------------------------------------------------

    async def _patch(
        self,
        patch: Patch,
        platform_id: str,
        changes: Mapping[str, Any],
        spec: CampaignSpec | AdGroupSpec | AdSpec,
        base: CampaignSpec | AdGroupSpec | AdSpec | None,
    ) -> PlatformObject:
        """Send the changes; none means no request at all, and the status we last set."""
        if not changes:
            return PlatformObject(platform_id=platform_id, status=_believed_status(spec, base))
        return _object(await patch(platform_id, changes), changed_fields=list(changes))

    def _status_calls(self, entity_type: EntityType) -> tuple[Patch, Get]:
        client = self._client
        calls: dict[str, tuple[Patch, Get]] = {
            "campaign": (client.update_campaign, client.get_campaign),
            "ad_group": (client.update_ad_group, client.get_ad_group),
            "ad": (client.update_ad, client.get_ad),
        }
        return calls[entity_type]

    async def _pixel(self, account: AccountContext) -> str | None:
        """The account's conversion pixel, which Reddit requires on every ad group (and on
        budget-optimized campaigns) since 2026-07-13. Looked up once per account; without
        one the create goes out without it and Reddit's 400 names the field."""
        if account.account_id not in self._pixels:
            pixels = await self._client.list_pixels(account.account_id)
            self._pixels[account.account_id] = str(pixels[0]["id"]) if pixels else None
        return self._pixels[account.account_id]


def _object(
    obj: Mapping[str, Any], *, adopted: bool = False, changed_fields: Sequence[str] = ()
) -> PlatformObject:
    post_id = obj.get("post_id")
    return PlatformObject(
        platform_id=str(obj["id"]),
        status=str(obj.get("configured_status") or UNKNOWN_STATUS),
        adopted=adopted,
        changed_fields=list(changed_fields),
        extra_ids={"post_id": str(post_id)} if post_id else {},
    )


def _adopt(items: Sequence[Mapping[str, Any]], ref: str, kind: str) -> PlatformObject | None:
    """The one live object carrying our entity's marker `ref` (never one that merely shares its
    name). Two would mean a duplicate create slipped through: adopting either could leave the
    other spending, so someone must look."""
    live = [
        o
        for o in items
        if ref_of(str(o.get("name") or "")) == ref and o.get("configured_status") != DELETED
    ]
    if len(live) > 1:
        ids = ", ".join(str(o["id"]) for o in live)
        raise NonRetryableError(
            f"{len(live)} live Reddit {kind}s carry the marker [fd:{ref}] ({ids}); "
            "delete all but one",
            platform=PLATFORM,
        )
    return _object(live[0], adopted=True) if live else None


# What a lookup compares of a post (posts have nothing else to tell them apart).
_POST_COPY = ("type", "headline", "body", "content")


def _profile(account: AccountContext) -> str:
    if not account.profile_id:
        raise NonRetryableError(
            "a Reddit ad needs a profile to own its post: the account has no profile_id",
            platform=PLATFORM,
            details={"fields": [{"field": "profile_id", "message": "is required"}]},
        )
    return account.profile_id


def _same(found: Any, wanted: Any) -> bool:
    """A post's field as Reddit returns it against what we would send (None and missing,
    and absent keys inside content items, count as equal)."""
    if isinstance(wanted, list) and isinstance(found, list):
        return len(found) == len(wanted) and all(
            _same(f, w) for f, w in zip(found, wanted, strict=True)
        )
    if isinstance(wanted, dict) and isinstance(found, dict):
        return all(_same(found.get(k), v) for k, v in wanted.items() if v is not None)
    return bool(found == wanted or (not found and not wanted))


def _believed_status(
    spec: CampaignSpec | AdGroupSpec | AdSpec, base: CampaignSpec | AdGroupSpec | AdSpec | None
) -> str:
    for status in (spec.status, base.status if base else None):
        if status in vocab.STATUSES:
            return vocab.reddit_status(status)
    return UNKNOWN_STATUS


@contextmanager
def _payload_errors(field: str = "data") -> Iterator[None]:
    """Content Reddit cannot take, as the non-retryable error a 400 would be, naming our field."""
    try:
        yield
    except payloads.RedditPayloadError as exc:
        raise _invalid(exc.field, exc.reason) from exc
    except ValueError as exc:
        raise _invalid(field, str(exc)) from exc


def _invalid(field: str, reason: str) -> NonRetryableError:
    return NonRetryableError(
        f"{field}: {reason}",
        platform=PLATFORM,
        details={"fields": [{"field": field, "message": reason}]},
    )


def _conforms(adapter: RedditCampaignSetAdapter) -> CampaignSetPlatformAdapter:
    return adapter  # mypy proves the Protocol is implemented
