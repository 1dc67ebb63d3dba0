"""`CampaignSetPlatformAdapter` for Meta (issue 14 item 4; meta-marketing-api.md §1-§5), through
the Graph client (`MetaGraphClient`), with payloads from `domain.meta_set_payloads`.

Campaign → campaign, ad group → ad set, ad → a link creative (`create_ad_creative`, ledgered
before the ad like Reddit's post) and the ad that shows it. Keywords have no Meta equivalent:
ad-group pushes report them with `extra_ids["keywords"] = "not_applicable"` and the sync marks
each keyword `not_applicable` with the reason (nothing is sent, nothing is dropped silently).

Effectively-once: Graph has no idempotency key (§5). Every object we create carries our
entity's adoption marker as its name suffix (` [fd:<ref>]`, `domain.adoption`); after an
ambiguous failure only, `find_*` lists the account's objects with `filtering` on that exact
name (and the parent id) — never by a bare name another set may share. A later rename pushes
the plain name (the object is mapped by id by then).

Updates send only changed fields (`POST /{id}`); none changed, no request. Graph cannot edit a
creative, change an objective, or (through our sync) an ad set's targeting: such changes are
refused with the field and the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flightdeck.domain import meta_set_payloads as payloads
from flightdeck.domain.adoption import with_ref
from flightdeck.domain.campaign_sets import (
    AdGroupSpec,
    AdSpec,
    CampaignSpec,
    EntityStatus,
    EntityType,
    PlatformObject,
)
from flightdeck.platforms.campaign_set_adapter import AccountContext, CampaignSetPlatformAdapter
from flightdeck.platforms.errors import NonRetryableError, PlatformError
from flightdeck.platforms.meta import MetaGraphClient

PLATFORM = "meta"
EDGES: dict[EntityType, str] = {"campaign": "campaigns", "ad_group": "adsets", "ad": "ads"}
NOT_APPLICABLE = "not_applicable"
NONEXISTENT_SUBCODE = 33
TokenSource = Callable[[], Awaitable[str]]


class MetaAdsClient:
    """The Graph client acting for one connection: its token fetched (and checked) per call
    from the connection service; the shared `MetaGraphClient` stays open on `aclose`."""

    def __init__(self, graph: MetaGraphClient, token: TokenSource) -> None:
        self._graph = graph
        self._token = token

    async def get(self, path: str, params: Mapping[str, Any], account: str) -> Any:
        return await self._graph.get(path, await self._token(), params, account=account)

    async def get_all(
        self, path: str, params: Mapping[str, Any], account: str
    ) -> list[dict[str, Any]]:
        return await self._graph.get_all(path, await self._token(), params, account=account)

    async def post(self, path: str, params: Mapping[str, Any], account: str) -> Any:
        return await self._graph.post(path, await self._token(), params, account=account)

    async def delete(self, path: str, account: str) -> Any:
        return await self._graph.delete(path, await self._token(), account=account)

    async def aclose(self) -> None:
        """Nothing of its own to close."""


class MetaCampaignSetAdapter:
    """Pushes a campaign set's entities to the ad account of `AccountContext.account_id`
    (`act_…`), its ads posted as the Page of `AccountContext.profile_id`."""

    platform = PLATFORM

    def __init__(self, client: MetaAdsClient) -> None:
        self._client = client

    # -- campaigns ----------------------------------------------------------------------------

    async def create_campaign(
        self, account: AccountContext, spec: CampaignSpec, *, ref: str | None = None
    ) -> PlatformObject:
        with _payload_errors():
            body = payloads.campaign_create(spec, [], with_ref(spec.name, ref))
        return await self._create(account, "campaigns", body)

    async def find_campaign(
        self, account: AccountContext, name: str, *, ref: str | None = None
    ) -> PlatformObject | None:
        return await self._find(account, "campaign", name, ref, {})

    async def update_campaign(
        self,
        account: AccountContext,
        platform_id: str,
        spec: CampaignSpec,
        base: CampaignSpec | None,
    ) -> PlatformObject:
        with _payload_errors():
            changes = payloads.campaign_changes(spec, base)
        return await self._update(account, platform_id, changes, spec.status)

    # -- ad groups (ad sets) ------------------------------------------------------------------

    async def create_ad_group(
        self,
        account: AccountContext,
        campaign_platform_id: str,
        campaign: CampaignSpec,
        spec: AdGroupSpec,
        *,
        ref: str | None = None,
    ) -> PlatformObject:
        with _payload_errors():
            body = payloads.ad_set_create(
                campaign, campaign_platform_id, spec, with_ref(spec.name, ref)
            )
        made = await self._create(account, "adsets", body)
        return _with_keywords(made, spec)

    async def find_ad_group(
        self,
        account: AccountContext,
        campaign_platform_id: str,
        name: str,
        *,
        ref: str | None = None,
    ) -> PlatformObject | None:
        found = await self._find(account, "adset", name, ref, {"campaign_id": campaign_platform_id})
        return (
            found.model_copy(update={"extra_ids": {"keywords": NOT_APPLICABLE}}) if found else None
        )

    async def update_ad_group(
        self,
        account: AccountContext,
        platform_id: str,
        campaign: CampaignSpec,
        spec: AdGroupSpec,
        base: AdGroupSpec | None,
    ) -> PlatformObject:
        with _payload_errors():
            changes = payloads.ad_set_changes(campaign, spec, base)
        return _with_keywords(await self._update(account, platform_id, changes, spec.status), spec)

    # -- ads ----------------------------------------------------------------------------------

    async def create_ad_creative(
        self, account: AccountContext, spec: AdSpec, *, ref: str | None = None
    ) -> PlatformObject:
        """A link creative named after the ad with our marker (`ref`): a creative's name is
        never shown to people, and the marker makes the retry's lookup this ad's alone."""
        with _payload_errors():
            body = payloads.creative_create(spec, account.profile_id)
        body["name"] = with_ref(body["name"], ref)
        return await self._create(account, "adcreatives", body, status="CREATIVE")

    async def find_ad_creative(
        self, account: AccountContext, spec: AdSpec, *, ref: str | None = None
    ) -> list[PlatformObject]:
        """Creatives with exactly the name `create_ad_creative` gives (marker included), copy
        and Page, oldest first (the caller skips those an ad already maps)."""
        with _payload_errors():
            wanted = payloads.creative_create(spec, account.profile_id)
        items = await self._client.get_all(
            f"{account.account_id}/adcreatives",
            {
                "fields": "id,name,object_story_spec",
                "filtering": [
                    {
                        "field": "adcreative.name",
                        "operator": "EQUAL",
                        "value": with_ref(wanted["name"], ref),
                    }
                ],
                "limit": 100,
            },
            account.account_id,
        )
        same = [i for i in items if _same_story(i.get("object_story_spec"), wanted)]
        same.sort(key=lambda i: int(str(i["id"])) if str(i["id"]).isdigit() else 0)
        return [
            PlatformObject(platform_id=str(i["id"]), status="CREATIVE", adopted=True) for i in same
        ]

    def unmarked_creative(
        self, account: AccountContext, spec: AdSpec
    ) -> tuple[str, dict[str, object]] | None:
        return None  # a creative carries our marker in its name

    async def create_ad(
        self,
        account: AccountContext,
        ad_group_platform_id: str,
        spec: AdSpec,
        creative_id: str | None = None,
        *,
        ref: str | None = None,
    ) -> PlatformObject:
        if creative_id is None:
            creative_id = (await self.create_ad_creative(account, spec)).platform_id
        with _payload_errors():
            body = payloads.ad_create(
                spec, ad_group_platform_id, creative_id, with_ref(spec.name, ref)
            )
        made = await self._create(account, "ads", body)
        return made.model_copy(update={"extra_ids": {"post_id": creative_id}})

    async def find_ad(
        self,
        account: AccountContext,
        ad_group_platform_id: str,
        name: str,
        *,
        ref: str | None = None,
    ) -> PlatformObject | None:
        return await self._find(account, "ad", name, ref, {"adset_id": ad_group_platform_id})

    async def update_ad(
        self, account: AccountContext, platform_id: str, spec: AdSpec, base: AdSpec | None
    ) -> PlatformObject:
        with _payload_errors():
            changes = payloads.ad_changes(spec, base)
        return await self._update(account, platform_id, changes, spec.status)

    # -- status -------------------------------------------------------------------------------

    async def set_status(
        self,
        account: AccountContext,
        entity_type: EntityType,
        platform_id: str,
        status: EntityStatus | str,
    ) -> PlatformObject:
        """paused/active → PAUSED/ACTIVE; archived → ARCHIVED; deleted → `DELETE /{id}` (a
        repeat after a lost answer finds it gone — Graph's code 100 / subcode 33 — and
        succeeds)."""
        if status == "deleted":
            try:
                await self._client.delete(platform_id, account.account_id)
            except PlatformError as exc:
                if not (exc.code == 100 and exc.subcode == NONEXISTENT_SUBCODE):
                    raise
            return PlatformObject(platform_id=platform_id, status="DELETED",
                                  changed_fields=["status"])  # fmt: skip
        words = {"paused": "PAUSED", "active": "ACTIVE", "archived": "ARCHIVED"}
        if status not in words:
            raise _invalid("status", f"{status!r} cannot be set on Meta")
        await self._client.post(platform_id, {"status": words[status]}, account.account_id)
        return PlatformObject(platform_id=platform_id, status=words[status],
                              changed_fields=["status"])  # fmt: skip

    # -- plumbing -----------------------------------------------------------------------------

    async def _create(
        self, account: AccountContext, edge: str, body: dict[str, Any], status: str | None = None
    ) -> PlatformObject:
        answer = await self._client.post(f"{account.account_id}/{edge}", body, account.account_id)
        created = answer.get("id") if isinstance(answer, dict) else None
        if not created:
            raise NonRetryableError(f"POST {edge} answered without an id", platform=PLATFORM)
        return PlatformObject(platform_id=str(created), status=status or str(body["status"]))

    async def _find(
        self,
        account: AccountContext,
        kind: str,
        name: str,
        ref: str | None,
        parent: Mapping[str, str],
    ) -> PlatformObject | None:
        """The one live object carrying our marker (under `parent`). Without a marker nothing
        is adopted: a bare name may be another set's."""
        if not ref:
            return None
        rules = [{"field": f"{kind}.name", "operator": "EQUAL", "value": with_ref(name, ref)}]
        rules += [
            {"field": f"{kind}.{field}", "operator": "EQUAL", "value": value}
            for field, value in parent.items()
        ]
        edge = {"campaign": "campaigns", "adset": "adsets", "ad": "ads"}[kind]
        found = await self._client.get_all(
            f"{account.account_id}/{edge}",
            {"fields": "id,name,status", "filtering": rules, "limit": 100},
            account.account_id,
        )
        if len(found) > 1:
            ids = ", ".join(str(o["id"]) for o in found)
            raise NonRetryableError(
                f"{len(found)} live Meta {kind}s carry our marker ({ids}); remove all but one",
                platform=PLATFORM,
            )
        if not found:
            return None
        return PlatformObject(
            platform_id=str(found[0]["id"]), status=str(found[0].get("status")), adopted=True
        )

    async def _update(
        self, account: AccountContext, platform_id: str, changes: dict[str, Any], wanted: str
    ) -> PlatformObject:
        if changes:
            await self._client.post(platform_id, changes, account.account_id)
        return PlatformObject(
            platform_id=platform_id,
            status=payloads.status(wanted),
            changed_fields=sorted(changes),
        )


def _with_keywords(made: PlatformObject, spec: AdGroupSpec) -> PlatformObject:
    if not spec.keywords:
        return made
    return made.model_copy(update={"extra_ids": {**made.extra_ids, "keywords": NOT_APPLICABLE}})


def _same_story(found: Any, wanted: Mapping[str, Any]) -> bool:
    if not isinstance(found, Mapping):
        return False
    want = wanted["object_story_spec"]
    link, want_link = found.get("link_data") or {}, want["link_data"]
    return str(found.get("page_id")) == str(want["page_id"]) and all(
        link.get(k) == want_link.get(k) for k in ("link", "name", "message")
    )


@contextmanager
def _payload_errors() -> Iterator[None]:
    try:
        yield
    except payloads.MetaPayloadError as exc:
        raise _invalid(exc.field, exc.reason) from exc


def _invalid(field_name: str, reason: str) -> NonRetryableError:
    return NonRetryableError(
        f"{field_name}: {reason}",
        platform=PLATFORM,
        details={"fields": [{"field": field_name, "message": reason}]},
    )


def _conforms(adapter: MetaCampaignSetAdapter) -> CampaignSetPlatformAdapter:
    return adapter  # mypy proves the Protocol is implemented
