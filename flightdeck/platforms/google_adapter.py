"""`CampaignSetPlatformAdapter` for Google Ads (issue 14; google-ads-api.md §2-§3, §7), through
`GoogleAdsClient`, with payloads from `domain.google_payloads`.

- A campaign's whole tree (budget, campaign, ad groups, keyword criteria, responsive search
  ads with their name labels) goes in ONE atomic `googleAds:mutate` with temporary ids
  (`create_campaign_tree`): either all of it exists afterwards or none of it. The campaign is
  created PAUSED; a second call enables it when it should run. The per-entity methods of the
  protocol use the same atomic mutates for their own subtree (budget + campaign; ad group +
  its keywords; ad + its label).
- Updates send only the changed fields, with an `updateMask`; no change, no request.
- Fields Google cannot change after creation are replaced as Google requires: a keyword whose
  text (or negative flag) changed is removed and created again, in one atomic request, and the
  update says so (`changed_fields` has `keywords.replaced`). Ad copy is edited in place on the
  ad (`ads:mutate`), which Google allows; the ad group ad's `ad` itself is never sent.
- Google has no idempotency key: every create carries the entity's adoption marker
  (`domain.adoption`, issue 8 item 2) — campaigns and ad groups as their name's suffix
  ` [fd:<12 hex>]`, ads (RSAs have no name) on a label of their own — and after an ambiguous
  failure (5xx, lost answer) the caller finds the object by that marker before creating again:
  never by a bare name, which another set in the same account may use too. Without a marker
  nothing is adopted.

Platform ids are resource names (`customers/{cid}/campaigns/{id}`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from flightdeck.domain import google_payloads as payloads
from flightdeck.domain.adoption import ref_of
from flightdeck.domain.campaign_sets import (
    AdGroupSpec,
    AdSpec,
    CampaignSpec,
    EntityStatus,
    EntityType,
    PlatformObject,
)
from flightdeck.platforms.campaign_set_adapter import (
    AccountContext,
    CampaignSetPlatformAdapter,
    CampaignTree,
    CampaignTreeAdapter,
    TreeEntityRefused,
    TreeRefs,
    TreeSlot,
)
from flightdeck.platforms.errors import NonRetryableError
from flightdeck.platforms.google_ads import GoogleAdsClient, gaql_string
from flightdeck.platforms.google_ads_errors import error_codes

PLATFORM = "google"
INLINE_CREATIVE = "inline"  # an RSA's copy is part of the ad: nothing to create before it
REMOVED = "REMOVED"
COLLECTIONS: dict[EntityType, tuple[str, str]] = {
    "campaign": ("campaigns", "campaignOperation"),
    "ad_group": ("adGroups", "adGroupOperation"),
    "ad": ("adGroupAds", "adGroupAdOperation"),
}


class _Temp:
    """Temporary ids for one request: negative, unique across resource types."""

    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id
        self._next = 0

    def name(self, collection: str, parent: str | None = None) -> str:
        self._next -= 1
        key = f"{parent}~{self._next}" if parent is not None else str(self._next)
        return f"customers/{self.customer_id}/{collection}/{key}"


class GoogleCampaignSetAdapter:
    """Pushes a campaign set's entities to one Google Ads customer per `AccountContext`."""

    platform = PLATFORM

    def __init__(self, client: GoogleAdsClient) -> None:
        self._client = client

    # -- a whole campaign ---------------------------------------------------------------------

    async def create_campaign_tree(
        self,
        account: AccountContext,
        spec: CampaignSpec,
        ad_groups: Sequence[tuple[AdGroupSpec, Sequence[AdSpec]]],
        *,
        enable_later: bool = True,
        refs: TreeRefs | None = None,
    ) -> CampaignTree:
        """The campaign and everything under it in one atomic googleAds:mutate, the campaign
        PAUSED until the whole tree exists; then one more request enables it when it should
        run. After an ambiguous failure: `find_tree`, then `set_status` if it is adopted
        paused (the tree itself is complete: it was one transaction)."""
        initial = "PAUSED" if enable_later else payloads.status(spec.status)
        tree = await self._create_tree(account, spec, ad_groups, refs or TreeRefs(), initial)
        if enable_later and payloads.status(spec.status) == "ENABLED":
            budget = tree.campaign.extra_ids["budget"]
            cid = account.account_id
            tree.campaign = await self._set(cid, "campaigns", tree.campaign.platform_id, "ENABLED")
            tree.campaign.extra_ids["budget"] = budget
        return tree

    async def create_tree(
        self,
        account: AccountContext,
        spec: CampaignSpec,
        ad_groups: Sequence[tuple[AdGroupSpec, Sequence[AdSpec]]],
        *,
        refs: TreeRefs,
        labels_may_exist: bool = True,
    ) -> CampaignTree:
        """`CampaignTreeAdapter`: the tree in one atomic request, the campaign PAUSED (issue 14:
        created PAUSED, then set to the wanted status by the caller once every id is stored)."""
        return await self._create_tree(
            account, spec, ad_groups, refs, "PAUSED", labels_may_exist=labels_may_exist
        )

    async def _create_tree(
        self,
        account: AccountContext,
        spec: CampaignSpec,
        ad_groups: Sequence[tuple[AdGroupSpec, Sequence[AdSpec]]],
        refs: TreeRefs,
        initial_status: str,
        *,
        labels_may_exist: bool = True,
    ) -> CampaignTree:
        cid = account.account_id
        temp = _Temp(cid)
        budget_name, campaign_name = temp.name("campaignBudgets"), temp.name("campaigns")
        groups = [group for group, _ in ad_groups]
        # The entity each operation is for, index for index: a refused operation names it.
        slots = [TreeSlot("campaign"), TreeSlot("campaign")]
        at = slots[0]  # the entity whose payload is being built: a refusal of ours names it
        try:
            ops: list[dict[str, Any]] = [
                _op(
                    "campaignBudgetOperation",
                    {"resourceName": budget_name, **payloads.budget(spec)},
                ),
                _op(
                    "campaignOperation",
                    payloads.campaign_create(
                        spec,
                        campaign_name,
                        budget_name,
                        groups,
                        initial_status=initial_status,
                        ref=refs.campaign,
                    ),
                ),
            ]
            group_names = [temp.name("adGroups") for _ in groups]
            for index, (group, name) in enumerate(zip(groups, group_names, strict=True)):
                slots.append(at := TreeSlot("ad_group", index))
                ops.append(
                    _op(
                        "adGroupOperation",
                        payloads.ad_group_create(group, name, campaign_name, refs.ad_group(index)),
                    )
                )
            keyword_slots: list[list[int]] = []
            for g, ((group, _), name) in enumerate(zip(ad_groups, group_names, strict=True)):
                keyword_slots.append([])
                for index, keyword in enumerate(group.keywords):
                    keyword_slots[-1].append(len(ops))
                    slots.append(at := TreeSlot("keyword", g, index))
                    ops.append(
                        _op(
                            "adGroupCriterionOperation",
                            payloads.keyword_create(keyword, name, index),
                        )
                    )
            ad_slots: list[list[int]] = []
            labels: list[dict[str, Any]] = []
            links: list[dict[str, Any]] = []
            ad_ops: list[dict[str, Any]] = []
            label_slots: list[TreeSlot] = []
            link_slots: list[TreeSlot] = []
            ad_refs = [
                ref
                for g, (_, ads) in enumerate(ad_groups)
                for i in range(len(ads))
                if (ref := refs.ad(g, i)) is not None
            ]
            label_names = await self._labels(cid, ad_refs) if ad_refs and labels_may_exist else {}
            for g, ((_, ads), group_name) in enumerate(zip(ad_groups, group_names, strict=True)):
                ad_slots.append([])
                group_key = group_name.rsplit("/", 1)[1]
                for i, ad in enumerate(ads):
                    ad_name = temp.name("adGroupAds", parent=group_key)
                    at = TreeSlot("ad", g, i)
                    ad_slots[-1].append(len(ad_ops))
                    ad_ops.append(
                        _op(
                            "adGroupAdOperation",
                            payloads.ad_group_ad_create(ad, group_name, ad_name),
                        )
                    )
                    ad_ref = refs.ad(g, i)
                    if ad_ref is None:
                        continue
                    text = payloads.ad_label(ad_ref)
                    if text not in label_names:
                        label_names[text] = temp.name("labels")
                        label_slots.append(TreeSlot("ad", g, i))
                        labels.append(
                            _op("labelOperation", {"resourceName": label_names[text], "name": text})
                        )
                    link_slots.append(TreeSlot("ad", g, i))
                    links.append(
                        _op(
                            "adGroupAdLabelOperation",
                            {"adGroupAd": ad_name, "label": label_names[text]},
                        )
                    )
        except payloads.GooglePayloadError as exc:
            what = _slot_name(at, spec, ad_groups)
            raise TreeEntityRefused(
                f"{what}: {exc.field}: {exc.reason}",
                slot=at,
                platform=PLATFORM,
                details={"fields": [{"field": exc.field, "message": exc.reason}]},
            ) from exc
        # Grouped by type (each switch of type costs Google latency, §3).
        first_ad = len(ops) + len(labels)
        ops += labels + ad_ops + links
        slots += label_slots
        slots += [
            TreeSlot("ad", g, i) for g, (_, ads) in enumerate(ad_groups) for i in range(len(ads))
        ]
        slots += link_slots
        try:
            answer = await self._client.mutate_all(cid, ops)
        except NonRetryableError as exc:
            raise _refused(exc, slots, spec, ad_groups) from exc
        names = answer.resource_names()
        campaign = PlatformObject(
            platform_id=str(names[1]), status=initial_status, extra_ids={"budget": str(names[0])}
        )
        tree = CampaignTree(campaign=campaign)
        for index, group in enumerate(groups):
            tree.ad_groups.append(
                PlatformObject(
                    platform_id=str(names[2 + index]), status=payloads.status(group.status)
                )
            )
            tree.keywords.append([str(names[slot]) for slot in keyword_slots[index]])
            ads = ad_groups[index][1]
            tree.ads.append(
                [
                    PlatformObject(
                        platform_id=str(names[first_ad + slot]),
                        status=payloads.status(ads[position].status),
                    )
                    for position, slot in enumerate(ad_slots[index])
                ]
            )
        return tree

    async def find_tree(
        self,
        account: AccountContext,
        spec: CampaignSpec,
        ad_groups: Sequence[tuple[AdGroupSpec, Sequence[AdSpec]]],
        *,
        refs: TreeRefs,
    ) -> CampaignTree | None:
        """`CampaignTreeAdapter`: the campaign by its marker, then each ad group by its marker
        under it, each ad by its label under its ad group, and the ad group's keywords by text
        and negative flag. A tree made by one atomic request is there whole; one made entity by
        entity (before trees, or by another path) may lack children: those are None."""
        campaign = await self.find_campaign(account, spec.name, ref=refs.campaign)
        if campaign is None:
            return None
        tree = CampaignTree(campaign=campaign)
        for g, (group, ads) in enumerate(ad_groups):
            found = await self.find_ad_group(
                account, campaign.platform_id, group.name, ref=refs.ad_group(g)
            )
            tree.ad_groups.append(found)
            if found is None:
                tree.ads.append([None] * len(ads))
                tree.keywords.append([None] * len(group.keywords))
                continue
            tree.ads.append(
                [
                    await self.find_ad(account, found.platform_id, ad.name, ref=refs.ad(g, i))
                    for i, ad in enumerate(ads)
                ]
            )
            criteria = await self._criteria(account, found.platform_id)
            tree.keywords.append(
                [
                    criteria[key]["resourceName"] if key in criteria else None
                    for key in (payloads.keyword_key(k) for k in group.keywords)
                ]
            )
        return tree

    # -- campaigns ----------------------------------------------------------------------------

    async def create_campaign(
        self, account: AccountContext, spec: CampaignSpec, *, ref: str | None = None
    ) -> PlatformObject:
        """Budget and campaign in one atomic request, with the wanted status at once: with no
        ad group yet the campaign serves nothing, and a second request (to enable it) could
        lose its answer after the create was adopted, leaving it paused for good."""
        tree = await self.create_campaign_tree(
            account, spec, [], enable_later=False, refs=TreeRefs(campaign=ref)
        )
        return tree.campaign

    async def find_campaign(
        self, account: AccountContext, name: str, *, ref: str | None = None
    ) -> PlatformObject | None:
        """The live campaign carrying `ref` in its name (whatever the name is now: a local
        rename between the lost answer and the retry changes nothing), never one by name."""
        if ref is None:
            return None
        rows = await self._client.search(
            account.account_id,
            (
                "SELECT campaign.resource_name, campaign.name, campaign.status, "
                f"campaign.campaign_budget FROM campaign WHERE campaign.name LIKE {_marked(ref)} "
                "AND campaign.status != 'REMOVED'"
            ),
        )
        found = [row["campaign"] for row in rows if ref_of(row["campaign"].get("name")) == ref]
        return _adopt(found, name, "campaign", lambda c: {"budget": c.get("campaignBudget", "")})

    async def update_campaign(
        self,
        account: AccountContext,
        platform_id: str,
        spec: CampaignSpec,
        base: CampaignSpec | None,
    ) -> PlatformObject:
        with _payload_errors():
            changes = payloads.campaign_changes(spec, base)
            budget_changes = payloads.budget_changes(spec, base)
        ops: list[dict[str, Any]] = []
        if budget_changes:
            rows = await self._client.search(
                account.account_id,
                (
                    "SELECT campaign.campaign_budget FROM campaign WHERE "
                    f"campaign.resource_name = {gaql_string(platform_id)}"
                ),
            )
            if not rows:
                raise NonRetryableError(
                    f"campaign {platform_id} is not on Google Ads", platform=PLATFORM
                )
            budget_name = rows[0]["campaign"]["campaignBudget"]
            ops.append(_update("campaignBudgetOperation", budget_name, budget_changes))
        if changes:
            ops.append(_update("campaignOperation", platform_id, changes))
        changed = (["budget"] if budget_changes else []) + list(changes)
        return await self._send_updates(account, platform_id, ops, spec.status, changed)

    # -- ad groups ----------------------------------------------------------------------------

    async def create_ad_group(
        self,
        account: AccountContext,
        campaign_platform_id: str,
        campaign: CampaignSpec,
        spec: AdGroupSpec,
        *,
        ref: str | None = None,
    ) -> PlatformObject:
        temp = _Temp(account.account_id)
        name = temp.name("adGroups")
        with _payload_errors():
            ops = [
                _op(
                    "adGroupOperation",
                    payloads.ad_group_create(spec, name, campaign_platform_id, ref),
                )
            ]
            ops += [
                _op("adGroupCriterionOperation", payloads.keyword_create(k, name, i))
                for i, k in enumerate(spec.keywords)
            ]
        answer = await self._client.mutate_all(account.account_id, ops)
        return PlatformObject(
            platform_id=str(answer.resource_names()[0]), status=payloads.status(spec.status)
        )

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
        campaign_id = campaign_platform_id.rsplit("/", 1)[-1]
        rows = await self._client.search(
            account.account_id,
            (
                "SELECT ad_group.resource_name, ad_group.name, ad_group.status FROM ad_group "
                f"WHERE ad_group.name LIKE {_marked(ref)} AND campaign.id = {campaign_id} "
                "AND ad_group.status != 'REMOVED'"
            ),
        )
        found = [row["adGroup"] for row in rows if ref_of(row["adGroup"].get("name")) == ref]
        return _adopt(found, name, "ad group")

    async def update_ad_group(
        self,
        account: AccountContext,
        platform_id: str,
        campaign: CampaignSpec,
        spec: AdGroupSpec,
        base: AdGroupSpec | None,
    ) -> PlatformObject:
        with _payload_errors():
            changes = payloads.ad_group_changes(spec, base)
        ops = [_update("adGroupOperation", platform_id, changes)] if changes else []
        keyword_ops, replaced = await self._keyword_ops(account, platform_id, spec)
        ops += keyword_ops
        changed = list(changes) + (["keywords"] if keyword_ops else [])
        changed += ["keywords.replaced"] if replaced else []
        return await self._send_updates(account, platform_id, ops, spec.status, changed)

    async def _keyword_ops(
        self, account: AccountContext, ad_group: str, spec: AdGroupSpec
    ) -> tuple[list[dict[str, Any]], bool]:
        """The criteria operations that make the ad group's keywords ours: statuses updated in
        place; text and negative are immutable, so a changed keyword is removed and created."""
        current = await self._criteria(account, ad_group)
        wanted = {payloads.keyword_key(k): (i, k) for i, k in enumerate(spec.keywords)}
        ops: list[dict[str, Any]] = []
        removed = [c for key, c in current.items() if key not in wanted]
        added = [(i, k) for key, (i, k) in wanted.items() if key not in current]
        for criterion in removed:
            ops.append({"adGroupCriterionOperation": {"remove": criterion["resourceName"]}})
        with _payload_errors():
            for index, keyword in added:
                ops.append(
                    _op(
                        "adGroupCriterionOperation",
                        payloads.keyword_create(keyword, ad_group, index),
                    )
                )
        for key, (_, keyword) in wanted.items():
            existing = current.get(key)
            if existing is not None and not keyword.negative:
                target = payloads.status(keyword.status)
                if existing.get("status") != target:
                    ops.append(
                        _update(
                            "adGroupCriterionOperation",
                            existing["resourceName"],
                            {"status": target},
                        )
                    )
        return ops, bool(removed and added)

    async def _criteria(
        self, account: AccountContext, ad_group: str
    ) -> dict[tuple[str, bool], dict[str, Any]]:
        """The ad group's live keyword criteria by (text, negative): the key `keyword_key`
        gives our keywords."""
        group_id = ad_group.rsplit("/", 1)[-1]
        rows = await self._client.search(
            account.account_id,
            (
                "SELECT ad_group_criterion.resource_name, ad_group_criterion.keyword.text, "
                "ad_group_criterion.negative, ad_group_criterion.status FROM ad_group_criterion "
                f"WHERE ad_group.id = {group_id} AND ad_group_criterion.status != 'REMOVED' "
                "AND ad_group_criterion.type = 'KEYWORD'"
            ),
        )
        current: dict[tuple[str, bool], dict[str, Any]] = {}
        for row in rows:
            criterion = row["adGroupCriterion"]
            key = (criterion["keyword"]["text"].strip().lower(), bool(criterion.get("negative")))
            current.setdefault(key, criterion)
        return current

    # -- ads ----------------------------------------------------------------------------------

    async def create_ad_creative(
        self, account: AccountContext, spec: AdSpec, *, ref: str | None = None
    ) -> PlatformObject:
        """Google has no creative apart from the ad: the responsive search ad's copy is part
        of it. Checks the copy against Google's rules; makes no request."""
        with _payload_errors():
            payloads.responsive_search_ad(spec)
        return PlatformObject(platform_id=INLINE_CREATIVE, status="INLINE")

    async def find_ad_creative(
        self, account: AccountContext, spec: AdSpec, *, ref: str | None = None
    ) -> list[PlatformObject]:
        """No request is ever made for a creative here: nothing to find."""
        return []

    def unmarked_creative(
        self, account: AccountContext, spec: AdSpec
    ) -> tuple[str, dict[str, object]] | None:
        return None

    async def create_ad(
        self,
        account: AccountContext,
        ad_group_platform_id: str,
        spec: AdSpec,
        creative_id: str | None = None,
        *,
        ref: str | None = None,
    ) -> PlatformObject:
        """The ad and its marker label (created, or an existing one reused: a label outlives
        the ad it was made with) in one request; without `ref`, the ad alone."""
        cid = account.account_id
        group_key = ad_group_platform_id.rsplit("/", 1)[-1]
        temp = _Temp(cid)
        ad_name = temp.name("adGroupAds", parent=group_key)
        with _payload_errors():
            ops = [
                _op(
                    "adGroupAdOperation",
                    payloads.ad_group_ad_create(spec, ad_group_platform_id, ad_name),
                )
            ]
        if ref is not None:
            label_text = payloads.ad_label(ref)
            label = (await self._labels(cid, [ref])).get(label_text)
            if label is None:
                label = temp.name("labels")
                ops.insert(0, _op("labelOperation", {"resourceName": label, "name": label_text}))
            ops.append(_op("adGroupAdLabelOperation", {"adGroupAd": ad_name, "label": label}))
        answer = await self._client.mutate_all(cid, ops)
        created = answer.resource_names()[1 if len(ops) == 3 else 0]
        return PlatformObject(platform_id=str(created), status=payloads.status(spec.status))

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
        group_key = ad_group_platform_id.rsplit("/", 1)[-1]
        label_text = payloads.ad_label(ref)
        rows = await self._client.search(
            account.account_id,
            (
                "SELECT ad_group_ad.resource_name, ad_group_ad.status FROM ad_group_ad_label "
                f"WHERE label.name = {gaql_string(label_text)} AND ad_group.id = {group_key} "
                "AND ad_group_ad.status != 'REMOVED'"
            ),
        )
        return _adopt([row["adGroupAd"] for row in rows], name, "ad")

    async def update_ad(
        self, account: AccountContext, platform_id: str, spec: AdSpec, base: AdSpec | None
    ) -> PlatformObject:
        with _payload_errors():
            wanted = payloads.responsive_search_ad(spec)
            before = payloads.responsive_search_ad(base) if base is not None else None
        ops: list[dict[str, Any]] = []
        changed: list[str] = []
        if base is None or payloads.status(spec.status) != payloads.status(base.status):
            ops.append(
                _update("adGroupAdOperation", platform_id, {"status": payloads.status(spec.status)})
            )
            changed.append("status")
        copy_changes = _copy_changes(wanted, before)
        if copy_changes:
            ad_id = platform_id.rsplit("~", 1)[-1]
            ad_name = f"customers/{account.account_id}/ads/{ad_id}"
            ops.append(
                {
                    "adOperation": {
                        "update": {"resourceName": ad_name, **copy_changes},
                        "updateMask": ",".join(_mask(copy_changes)),
                    }
                }
            )
            changed += _mask(copy_changes)
        return await self._send_updates(account, platform_id, ops, spec.status, changed)

    # -- status -------------------------------------------------------------------------------

    async def set_status(
        self,
        account: AccountContext,
        entity_type: EntityType,
        platform_id: str,
        status: EntityStatus | str,
    ) -> PlatformObject:
        """paused/active → PAUSED/ENABLED; archived/deleted → remove (REMOVED is terminal: a
        repeat after a lost answer finds it removed and succeeds)."""
        collection, _ = COLLECTIONS[entity_type]
        cid = account.account_id
        if status in ("archived", "deleted"):
            try:
                await self._client.mutate(cid, collection, [{"remove": platform_id}])
            except NonRetryableError as exc:
                if (
                    "operationAccessDeniedError.OPERATION_NOT_PERMITTED_FOR_REMOVED_RESOURCE"
                    not in error_codes(exc)
                ):
                    raise
            return PlatformObject(
                platform_id=platform_id, status=REMOVED, changed_fields=["status"]
            )
        if status not in ("paused", "active"):
            raise _invalid("status", f"{status!r} cannot be set on Google Ads")
        return await self._set(cid, collection, platform_id, payloads.status(status))

    # -- plumbing -----------------------------------------------------------------------------

    async def _labels(self, cid: str, refs: Sequence[str]) -> dict[str, str]:
        """The ads' marker labels that already exist: label name -> resource name."""
        texts = sorted({payloads.ad_label(ref) for ref in refs})
        listed = ", ".join(gaql_string(text) for text in texts)
        rows = await self._client.search(
            cid,
            (
                "SELECT label.resource_name, label.name FROM label "
                f"WHERE label.name IN ({listed}) AND label.status != 'REMOVED'"
            ),
        )
        return {row["label"]["name"]: row["label"]["resourceName"] for row in rows}

    async def _set(self, cid: str, collection: str, name: str, status: str) -> PlatformObject:
        await self._client.mutate(
            cid,
            collection,
            [{"update": {"resourceName": name, "status": status}, "updateMask": "status"}],
        )
        return PlatformObject(platform_id=name, status=status, changed_fields=["status"])

    async def _send_updates(
        self,
        account: AccountContext,
        platform_id: str,
        ops: list[dict[str, Any]],
        wanted_status: str,
        changed: list[str],
    ) -> PlatformObject:
        """Every change in one atomic request; none means no request at all."""
        if ops:
            await self._client.mutate_all(account.account_id, ops)
        return PlatformObject(
            platform_id=platform_id, status=payloads.status(wanted_status), changed_fields=changed
        )


def _marked(ref: str) -> str:
    """A GAQL LIKE pattern for names carrying `ref` (hex and a colon: no wildcard or bracket
    inside to escape); the caller checks the exact suffix."""
    return gaql_string(f"%fd:{ref}%")


def _op(key: str, create: Mapping[str, Any]) -> dict[str, Any]:
    return {key: {"create": dict(create)}}


def _update(key: str, resource_name: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: {
            "update": {"resourceName": resource_name, **changes},
            "updateMask": ",".join(_mask(changes)),
        }
    }


def _mask(changes: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Update-mask paths: leaves of nested messages; an empty message names itself."""
    paths: list[str] = []
    for key, value in changes.items():
        if isinstance(value, dict) and value:
            paths += _mask(value, f"{prefix}{key}.")
        else:
            paths.append(prefix + key)
    return paths


def _copy_changes(wanted: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    """The ad's copy fields that differ (whole lists: an RSA's assets are replaced as a set)."""
    changes: dict[str, Any] = {}
    if before is None or wanted["finalUrls"] != before["finalUrls"]:
        changes["finalUrls"] = wanted["finalUrls"]
    rsa, old = wanted["responsiveSearchAd"], (before or {}).get("responsiveSearchAd", {})
    rsa_changes = {k: v for k, v in rsa.items() if old.get(k) != v}
    rsa_changes.update({k: "" for k in ("path1", "path2") if k in old and k not in rsa})
    if rsa_changes:
        changes["responsiveSearchAd"] = rsa_changes
    return changes


def _adopt(
    found: Sequence[Mapping[str, Any]],
    name: str,
    kind: str,
    extra: Any = None,
) -> PlatformObject | None:
    """The one live object found. Two would mean a duplicate slipped through: adopting either
    could leave the other spending, so someone must look."""
    if len(found) > 1:
        names = ", ".join(str(o["resourceName"]) for o in found)
        raise NonRetryableError(
            f"{len(found)} live Google Ads {kind}s are named {name!r} ({names}); remove all "
            "but one",
            platform=PLATFORM,
        )
    if not found:
        return None
    obj = found[0]
    return PlatformObject(
        platform_id=str(obj["resourceName"]),
        status=str(obj.get("status")),
        adopted=True,
        extra_ids=extra(obj) if extra else {},
    )


@contextmanager
def _payload_errors(field_name: str = "data") -> Iterator[None]:
    try:
        yield
    except payloads.GooglePayloadError as exc:
        raise _invalid(exc.field, exc.reason) from exc


def _invalid(field_name: str, reason: str) -> NonRetryableError:
    return NonRetryableError(
        f"{field_name}: {reason}",
        platform=PLATFORM,
        details={"fields": [{"field": field_name, "message": reason}]},
    )


def _refused(
    exc: NonRetryableError,
    slots: Sequence[TreeSlot],
    spec: CampaignSpec,
    ad_groups: Sequence[tuple[AdGroupSpec, Sequence[AdSpec]]],
) -> NonRetryableError:
    """Google refused the atomic tree (nothing was created): name the entity of the first
    operation it refused (`operation` index -> our entity), or keep the error as it is."""
    for error in exc.details.get("errors") or []:
        index = error.get("operation")
        if not isinstance(index, int) or not 0 <= index < len(slots):
            continue
        slot = slots[index]
        what = _slot_name(slot, spec, ad_groups)
        return TreeEntityRefused(
            f"{what}: {error.get('code')}: {error.get('message')} (operation {index} of the "
            "campaign's atomic tree create; nothing was created)",
            slot=slot,
            platform=PLATFORM,
            status_code=exc.status_code,
            details=exc.details,
            request=exc.request,
        )
    return exc


def _slot_name(
    slot: TreeSlot,
    spec: CampaignSpec,
    ad_groups: Sequence[tuple[AdGroupSpec, Sequence[AdSpec]]],
) -> str:
    if slot.kind == "campaign" or slot.group is None:
        return f"campaign {spec.name!r}"
    group, ads = ad_groups[slot.group]
    where = f"ad group {group.name!r}"
    if slot.kind == "keyword" and slot.index is not None:
        keyword = group.keywords[slot.index]
        return f"{where}, {'negative ' if keyword.negative else ''}keyword {keyword.text!r}"
    if slot.kind == "ad" and slot.index is not None:
        return f"{where}, ad {ads[slot.index].name!r}"
    return where


def _conforms(adapter: GoogleCampaignSetAdapter) -> CampaignSetPlatformAdapter:
    return adapter  # mypy proves the Protocol is implemented


def _builds_trees(adapter: GoogleCampaignSetAdapter) -> CampaignTreeAdapter:
    return adapter  # and the optional tree capability
