"""Campaign sets and their trees (seed 002): create a whole set in one call, read it back with
every level eagerly loaded, and edit each level on its own. Always tenant-scoped.

Rules every write follows:
- a local content change marks the entity `sync_status='pending'` (and its set; a keyword
  change marks its ad group too, since keywords travel with the ad group to the platform);
- deleting an entity that exists on the platform (it has a platform id, or a create is in
  flight) soft-deletes it, so the next sync can delete it there; otherwise the row goes;
- a soft-deleted entity hides its whole subtree from reads and writes;
- names are unique among a parent's live children: a clash raises `DuplicateNameError`, and
  the session stays usable (each write runs in a savepoint).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from flightdeck.db.models import (
    AdGroup,
    CampaignSet,
    CampaignSetTarget,
    GeneratedAd,
    GeneratedCampaign,
    Keyword,
    SyncRecord,
)
from flightdeck.db.repositories.base import TenantScopedRepository
from flightdeck.db.repositories.pagination import Keyset, Page, asc, desc
from flightdeck.domain.campaign_sets import (
    AdGroupSpec,
    AdSpec,
    Budget,
    CampaignSpec,
    EntityType,
    KeywordSpec,
    Platform,
    Targeting,
)

Entity = TypeVar("Entity", GeneratedCampaign, AdGroup, GeneratedAd, Keyword)
Deleted = Literal["soft_deleted", "deleted"]

SET_FIELDS = frozenset({"name", "description", "ad_account_id"})
_SYNCED_MODELS: dict[str, tuple[Any, str]] = {
    "campaign": (GeneratedCampaign, "platform_campaign_id"),
    "ad_group": (AdGroup, "platform_ad_group_id"),
    "ad": (GeneratedAd, "platform_ad_id"),
}
# Which live sibling a unique index protects, for DuplicateNameError.
_UNIQUE_INDEXES = {
    "uq_generated_campaigns_campaign_set_id_name": "campaign",
    "uq_ad_groups_campaign_id_name": "ad group",
    "uq_generated_ads_ad_group_id_name": "ad",
    "uq_keywords_ad_group_id_text_negative": "keyword",
}


class DuplicateNameError(Exception):
    """A live sibling already has this name (for keywords: this text and polarity)."""

    def __init__(self, entity: str, name: str | None = None) -> None:
        self.entity = entity
        self.name = name
        what = f"{entity} {name!r}" if name else f"{entity} name"
        super().__init__(f"duplicate {what}: names are unique within their parent")


class LiveOnPlatformError(Exception):
    """The change would orphan objects that exist on the ad platform."""


@dataclass(frozen=True)
class NewAdGroup:
    spec: AdGroupSpec  # with its keywords
    ads: Sequence[AdSpec] = ()


@dataclass(frozen=True)
class NewCampaign:
    spec: CampaignSpec
    ad_groups: Sequence[NewAdGroup] = ()


def to_campaign_spec(row: GeneratedCampaign) -> CampaignSpec:
    """The campaign's content, as the adapters and the API see it."""
    return CampaignSpec(
        name=row.name,
        objective=row.objective,  # type: ignore[arg-type]  # checked on the way in
        budget=_budget(row),
        budget_optimization=row.budget_optimization,
        status=row.status,  # type: ignore[arg-type]
        start_time=row.start_time,
        end_time=row.end_time,
    )


def to_ad_group_spec(row: AdGroup, keywords: Sequence[Keyword] = ()) -> AdGroupSpec:
    return AdGroupSpec(
        name=row.name,
        status=row.status,  # type: ignore[arg-type]
        bid_strategy=row.bid_strategy,  # type: ignore[arg-type]
        bid_amount=row.bid_amount,
        budget=_budget(row),
        targeting=Targeting.model_validate(row.targeting),
        optimization_goal=row.optimization_goal,
        start_time=row.start_time,
        end_time=row.end_time,
        keywords=[to_keyword_spec(keyword) for keyword in keywords],
    )


def to_ad_spec(row: GeneratedAd) -> AdSpec:
    return AdSpec.model_validate({name: getattr(row, name) for name in AdSpec.model_fields})


def to_keyword_spec(row: Keyword) -> KeywordSpec:
    return KeywordSpec(text=row.text, negative=row.negative, status=row.status)  # type: ignore[arg-type]


def _budget(row: GeneratedCampaign | AdGroup) -> Budget | None:
    if row.budget_type is None or row.budget_amount is None or row.currency is None:
        return None
    return Budget(type=row.budget_type, amount=row.budget_amount, currency=row.currency)  # type: ignore[arg-type]


def _column_values(field: str, value: Any) -> dict[str, Any]:
    """One spec field as the columns that store it."""
    if field == "budget":
        budget: Budget | None = value
        return {
            "budget_type": budget.type if budget else None,
            "budget_amount": budget.amount if budget else None,
            "currency": budget.currency if budget else None,
        }
    if field == "targeting":
        return {"targeting": Targeting.model_validate(value).model_dump(mode="json")}
    return {field: value}


def _spec_columns(spec: CampaignSpec | AdGroupSpec | AdSpec | KeywordSpec) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in type(spec).model_fields:
        if field != "keywords":
            values |= _column_values(field, getattr(spec, field))
    return values


SET_ORDER = Keyset("campaign-sets", desc(CampaignSet.created_at), desc(CampaignSet.id))
CAMPAIGN_ORDER = Keyset("campaigns", asc(GeneratedCampaign.position), asc(GeneratedCampaign.id))
AD_GROUP_ORDER = Keyset("ad-groups", asc(AdGroup.position), asc(AdGroup.id))
AD_ORDER = Keyset("ads", asc(GeneratedAd.position), asc(GeneratedAd.id))
# Keywords as their ad group shows them: positive before negative, alphabetically.
KEYWORD_ORDER = Keyset(
    "keywords", asc(Keyword.negative), asc(func.lower(Keyword.text), str), asc(Keyword.id)
)


def _duplicate(exc: IntegrityError, name: str | None) -> DuplicateNameError | None:
    constraint = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
    entity = _UNIQUE_INDEXES.get(str(constraint))
    return DuplicateNameError(entity, name) if entity else None


class CampaignSetRepository(TenantScopedRepository[CampaignSet]):
    model = CampaignSet

    # --- sets -------------------------------------------------------------------------------

    async def create(
        self,
        tenant_id: uuid.UUID,
        *,
        name: str,
        description: str | None = None,
        platform: Platform = "reddit",
        ad_account_id: uuid.UUID | None = None,
        campaigns: Sequence[NewCampaign] = (),
        targets: Sequence[tuple[str, uuid.UUID | None]] | None = None,
    ) -> CampaignSet:
        """Store a set with its targets (default: `platform` + `ad_account_id`; else the
        first of `targets` is mirrored there) and its whole tree; returns it loaded as
        `get_tree` does."""
        targets = list(targets) if targets else [(platform, ad_account_id)]
        row = CampaignSet(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            name=name,
            description=description,
            platform=targets[0][0],
            ad_account_id=targets[0][1],
        )
        rows: builtins.list[Any] = [row]
        rows += [
            CampaignSetTarget(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                campaign_set_id=row.id,
                position=position,
                platform=target_platform,
                ad_account_id=account,
            )
            for position, (target_platform, account) in enumerate(targets)
        ]
        for position, campaign in enumerate(campaigns):
            rows += self._campaign_rows(tenant_id, row.id, position, campaign)
        await self._write(lambda: self.session.add_all(rows))
        tree = await self.get_tree(tenant_id, row.id)
        assert tree is not None, "just created"
        return tree

    async def get(self, tenant_id: uuid.UUID, set_id: uuid.UUID) -> CampaignSet | None:
        """The set alone (its `campaigns` are not loaded)."""
        statement = self._select(tenant_id, CampaignSet.id == set_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def get_tree(
        self, tenant_id: uuid.UUID, set_id: uuid.UUID, include_deleted: bool = False
    ) -> CampaignSet | None:
        """The set with campaigns → ad groups → ads and keywords loaded, in position order."""
        campaigns = CampaignSet.campaigns.and_(
            _visible(GeneratedCampaign, tenant_id, include_deleted)
        )
        options = [
            selectinload(campaigns).options(*_campaign_subtree(tenant_id, include_deleted)),
            selectinload(CampaignSet.targets),
        ]
        statement = self._select(tenant_id, CampaignSet.id == set_id).options(*options)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def list(
        self,
        tenant_id: uuid.UUID,
        *,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[CampaignSet]:
        """A page of sets (without trees), newest first, and the next page's cursor."""
        statement = self._select(tenant_id).options(selectinload(CampaignSet.targets))
        if status is not None:
            statement = statement.where(CampaignSet.status == status)
        return await SET_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)

    async def update(
        self, tenant_id: uuid.UUID, set_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> CampaignSet | None:
        """Change name, description or ad account. Moving a set that already has objects on
        the platform to another account raises LiveOnPlatformError."""
        if unknown := set(changes) - SET_FIELDS:
            raise ValueError(f"not editable on a campaign set: {sorted(unknown)}")
        row = await self.get(tenant_id, set_id)
        if row is None:
            return None
        account_change = (
            "ad_account_id" in changes and changes["ad_account_id"] != row.ad_account_id
        )
        if account_change and await self.has_platform_objects(tenant_id, set_id):
            raise LiveOnPlatformError("the set has campaigns on the platform under its account")
        await self._write(lambda: _assign(row, changes))
        if account_change:  # the first target is the set's platform + ad account
            await self.session.execute(
                update(CampaignSetTarget)
                .where(
                    CampaignSetTarget.tenant_id == tenant_id,
                    CampaignSetTarget.campaign_set_id == set_id,
                    CampaignSetTarget.platform == row.platform,
                )
                .values(ad_account_id=changes["ad_account_id"])
            )
        return row

    async def delete(self, tenant_id: uuid.UUID, set_id: uuid.UUID) -> bool:
        """Delete a set and its tree. Refused (LiveOnPlatformError) while any of its campaigns
        exists on the platform: delete those first, and sync."""
        if await self.get(tenant_id, set_id) is None:
            return False
        if await self.has_platform_objects(tenant_id, set_id):
            raise LiveOnPlatformError("the set has campaigns on the platform")
        campaign_ids = select(GeneratedCampaign.id).where(
            GeneratedCampaign.campaign_set_id == set_id
        )
        await self._forget_sync_records("campaign", campaign_ids)
        await self.session.execute(
            delete(CampaignSet).where(CampaignSet.tenant_id == tenant_id, CampaignSet.id == set_id)
        )
        return True

    async def has_platform_objects(self, tenant_id: uuid.UUID, set_id: uuid.UUID) -> bool:
        """Whether a campaign of the set exists on any of its targets (or is being created
        there). A soft-deleted campaign whose deletion has been synced no longer counts."""
        on_platform = and_(
            GeneratedCampaign.platform_campaign_id.is_not(None),
            or_(
                GeneratedCampaign.deleted_at.is_(None),
                GeneratedCampaign.sync_status != "synced",
            ),
        )
        # Another target's mapping (its sync record), not deleted there.
        on_platform = or_(
            on_platform,
            exists().where(
                SyncRecord.entity_type == "campaign",
                SyncRecord.entity_id == GeneratedCampaign.id,
                SyncRecord.platform_id.is_not(None),
                SyncRecord.state != "deleted",
            ),
        )
        statement = select(
            exists().where(
                GeneratedCampaign.tenant_id == tenant_id,
                GeneratedCampaign.campaign_set_id == set_id,
                or_(on_platform, _create_in_flight("campaign", GeneratedCampaign.id)),
            )
        )
        return bool(await self.session.scalar(statement))

    async def set_status(
        self,
        tenant_id: uuid.UUID,
        set_id: uuid.UUID,
        *,
        status: str | None = None,
        sync_status: str | None = None,
        last_synced_at: datetime | None = None,
    ) -> CampaignSet | None:
        """For the sync engine: record the set's lifecycle status and aggregate sync state."""
        values = {"status": status, "sync_status": sync_status, "last_synced_at": last_synced_at}
        given = {key: value for key, value in values.items() if value is not None}
        return await self._update_returning(tenant_id, [CampaignSet.id == set_id], given)

    # --- campaigns --------------------------------------------------------------------------

    async def create_campaign(
        self, tenant_id: uuid.UUID, set_id: uuid.UUID, campaign: NewCampaign
    ) -> GeneratedCampaign | None:
        """Add a campaign (with its ad groups, ads and keywords) at the end of the set; None if
        the set does not exist."""
        if await self.get(tenant_id, set_id) is None:
            return None
        position = await self._next_position(GeneratedCampaign.campaign_set_id, set_id)
        rows = self._campaign_rows(tenant_id, set_id, position, campaign)
        await self._write(lambda: self.session.add_all(rows), campaign.spec.name)
        await self._touch_set(set_id)
        return await self.get_campaign(tenant_id, rows[0].id)

    async def get_campaign(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID
    ) -> GeneratedCampaign | None:
        """A live campaign with its live ad groups, ads and keywords."""
        statement = _live(GeneratedCampaign, tenant_id, campaign_id).options(
            *_campaign_subtree(tenant_id, False)
        )
        return await _first(self.session, statement)

    async def list_campaigns(
        self, tenant_id: uuid.UUID, set_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None
    ) -> Page[GeneratedCampaign] | None:
        """A page of the set's live campaigns with their trees; None if the set does not exist."""
        if await self._one_or_none(self._select(tenant_id, CampaignSet.id == set_id)) is None:
            return None
        statement = (
            select(GeneratedCampaign)
            .where(
                GeneratedCampaign.campaign_set_id == set_id,
                _visible(GeneratedCampaign, tenant_id, False),
            )
            .options(*_campaign_subtree(tenant_id, False))
            .execution_options(populate_existing=True)
        )
        return await CAMPAIGN_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)

    async def update_campaign(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> GeneratedCampaign | None:
        """Apply the given CampaignSpec fields; returns the campaign with its tree."""
        row = await _first(self.session, _live(GeneratedCampaign, tenant_id, campaign_id))
        if row is None:
            return None
        if await self._edit(row, CampaignSpec, changes):
            await self._touch_set(row.campaign_set_id)
        return await self.get_campaign(tenant_id, campaign_id)

    async def delete_campaign(self, tenant_id: uuid.UUID, campaign_id: uuid.UUID) -> Deleted | None:
        row = await _first(self.session, _live(GeneratedCampaign, tenant_id, campaign_id))
        if row is None:
            return None
        result = await self._delete(row, "campaign", row.platform_campaign_id)
        await self._touch_set(row.campaign_set_id)
        return result

    # --- ad groups --------------------------------------------------------------------------

    async def create_ad_group(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, ad_group: NewAdGroup
    ) -> AdGroup | None:
        campaign = await _first(self.session, _live(GeneratedCampaign, tenant_id, campaign_id))
        if campaign is None:
            return None
        position = await self._next_position(AdGroup.campaign_id, campaign_id)
        rows = self._ad_group_rows(tenant_id, campaign_id, position, ad_group)
        await self._write(lambda: self.session.add_all(rows), ad_group.spec.name)
        await self._touch_set(campaign.campaign_set_id)
        return await self.get_ad_group(tenant_id, rows[0].id)

    async def get_ad_group(self, tenant_id: uuid.UUID, ad_group_id: uuid.UUID) -> AdGroup | None:
        """A live ad group with its live ads and keywords."""
        statement = _live(AdGroup, tenant_id, ad_group_id).options(
            *_ad_group_subtree(tenant_id, False)
        )
        return await _first(self.session, statement)

    async def list_ad_groups(
        self,
        tenant_id: uuid.UUID,
        campaign_id: uuid.UUID,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[AdGroup] | None:
        """A page of the live campaign's live ad groups; None if the campaign is not live."""
        if await _first(self.session, _live(GeneratedCampaign, tenant_id, campaign_id)) is None:
            return None
        statement = (
            select(AdGroup)
            .where(AdGroup.campaign_id == campaign_id, _visible(AdGroup, tenant_id, False))
            .options(*_ad_group_subtree(tenant_id, False))
            .execution_options(populate_existing=True)
        )
        return await AD_GROUP_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)

    async def update_ad_group(
        self, tenant_id: uuid.UUID, ad_group_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> AdGroup | None:
        """Apply the given AdGroupSpec fields (keywords have their own methods)."""
        if "keywords" in changes:
            raise ValueError("keywords are edited one by one, not through their ad group")
        row = await _first(self.session, _live(AdGroup, tenant_id, ad_group_id))
        if row is None:
            return None
        if await self._edit(row, AdGroupSpec, changes):
            await self._touch_set_of_campaign(row.campaign_id)
        return await self.get_ad_group(tenant_id, ad_group_id)

    async def delete_ad_group(self, tenant_id: uuid.UUID, ad_group_id: uuid.UUID) -> Deleted | None:
        row = await _first(self.session, _live(AdGroup, tenant_id, ad_group_id))
        if row is None:
            return None
        result = await self._delete(row, "ad_group", row.platform_ad_group_id)
        await self._touch_set_of_campaign(row.campaign_id)
        return result

    # --- ads --------------------------------------------------------------------------------

    async def create_ad(
        self, tenant_id: uuid.UUID, ad_group_id: uuid.UUID, spec: AdSpec
    ) -> GeneratedAd | None:
        ad_group = await _first(self.session, _live(AdGroup, tenant_id, ad_group_id))
        if ad_group is None:
            return None
        position = await self._next_position(GeneratedAd.ad_group_id, ad_group_id)
        row = _ad_row(tenant_id, ad_group_id, position, spec)
        await self._write(lambda: self.session.add(row), spec.name)
        await self._touch_set_of_campaign(ad_group.campaign_id)
        return row

    async def get_ad(self, tenant_id: uuid.UUID, ad_id: uuid.UUID) -> GeneratedAd | None:
        return await _first(self.session, _live(GeneratedAd, tenant_id, ad_id))

    async def list_ads(
        self,
        tenant_id: uuid.UUID,
        ad_group_id: uuid.UUID,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[GeneratedAd] | None:
        """A page of the live ad group's live ads; None if the ad group is not live."""
        if await _first(self.session, _live(AdGroup, tenant_id, ad_group_id)) is None:
            return None
        statement = select(GeneratedAd).where(
            GeneratedAd.ad_group_id == ad_group_id, _visible(GeneratedAd, tenant_id, False)
        )
        statement = statement.execution_options(populate_existing=True)
        return await AD_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)

    async def update_ad(
        self, tenant_id: uuid.UUID, ad_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> GeneratedAd | None:
        row = await self.get_ad(tenant_id, ad_id)
        if row is None:
            return None
        if await self._edit(row, AdSpec, changes):
            await self._touch_set_of_ad_group(row.ad_group_id)
        return row

    async def delete_ad(self, tenant_id: uuid.UUID, ad_id: uuid.UUID) -> Deleted | None:
        row = await self.get_ad(tenant_id, ad_id)
        if row is None:
            return None
        result = await self._delete(row, "ad", row.platform_ad_id)
        await self._touch_set_of_ad_group(row.ad_group_id)
        return result

    # --- keywords ---------------------------------------------------------------------------

    async def create_keyword(
        self, tenant_id: uuid.UUID, ad_group_id: uuid.UUID, spec: KeywordSpec
    ) -> Keyword | None:
        if await _first(self.session, _live(AdGroup, tenant_id, ad_group_id)) is None:
            return None
        row = Keyword(id=uuid.uuid4(), tenant_id=tenant_id, ad_group_id=ad_group_id)
        _assign(row, _spec_columns(spec))
        await self._write(lambda: self.session.add(row), spec.text)
        await self._keywords_changed(ad_group_id)
        return row

    async def get_keyword(self, tenant_id: uuid.UUID, keyword_id: uuid.UUID) -> Keyword | None:
        return await _first(self.session, _live(Keyword, tenant_id, keyword_id))

    async def list_keywords(
        self,
        tenant_id: uuid.UUID,
        ad_group_id: uuid.UUID,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Keyword] | None:
        """A page of the live ad group's live keywords; None if the ad group is not live."""
        if await _first(self.session, _live(AdGroup, tenant_id, ad_group_id)) is None:
            return None
        statement = select(Keyword).where(
            Keyword.ad_group_id == ad_group_id, _visible(Keyword, tenant_id, False)
        )
        statement = statement.execution_options(populate_existing=True)
        return await KEYWORD_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)

    async def update_keyword(
        self, tenant_id: uuid.UUID, keyword_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> Keyword | None:
        row = await self.get_keyword(tenant_id, keyword_id)
        if row is None:
            return None
        if await self._edit(row, KeywordSpec, changes):
            await self._keywords_changed(row.ad_group_id)
        return row

    async def delete_keyword(self, tenant_id: uuid.UUID, keyword_id: uuid.UUID) -> Deleted | None:
        row = await self.get_keyword(tenant_id, keyword_id)
        if row is None:
            return None
        if row.platform_keyword_id is not None:
            await self._write(lambda: _assign(row, {"deleted_at": datetime.now(UTC)}))
            result: Deleted = "soft_deleted"
        else:
            await self.session.execute(delete(Keyword).where(Keyword.id == row.id))
            result = "deleted"
        await self._keywords_changed(row.ad_group_id)
        return result

    # --- sync results -----------------------------------------------------------------------

    async def record_sync_result(
        self,
        tenant_id: uuid.UUID,
        entity_type: EntityType,
        entity_id: uuid.UUID,
        *,
        sync_status: str,
        platform_id: str | None = None,
        sync_error: str | None = None,
        platform_post_id: str | None = None,
        mirror: bool = True,
    ) -> bool:
        """For the sync engine: store an entity's platform id (right after the call that made
        it) and its sync outcome. Not a content change: nothing else is marked pending.
        Whether the entity exists. `mirror=False`: the push was for a target other than the
        set's first, whose mapping and status are its sync records alone (nothing written)."""
        if not mirror:
            return True
        model, platform_id_column = _SYNCED_MODELS[entity_type]
        values: dict[str, Any] = {"sync_status": sync_status, "sync_error": sync_error}
        if sync_status == "synced":
            values["last_synced_at"] = datetime.now(UTC)
        if platform_id is not None:
            values[platform_id_column] = platform_id
        if platform_post_id is not None and model is GeneratedAd:
            values["platform_post_id"] = platform_post_id
        result = await self.session.execute(
            update(model)
            .where(model.tenant_id == tenant_id, model.id == entity_id)
            .values(**values)
            .returning(model.id)
        )
        return result.first() is not None

    # --- helpers ----------------------------------------------------------------------------

    def _campaign_rows(
        self, tenant_id: uuid.UUID, set_id: uuid.UUID, position: int, campaign: NewCampaign
    ) -> builtins.list[Any]:
        row = GeneratedCampaign(
            id=uuid.uuid4(), tenant_id=tenant_id, campaign_set_id=set_id, position=position
        )
        _assign(row, _spec_columns(campaign.spec))
        rows: builtins.list[Any] = [row]
        for index, ad_group in enumerate(campaign.ad_groups):
            rows += self._ad_group_rows(tenant_id, row.id, index, ad_group)
        return rows

    def _ad_group_rows(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, position: int, ad_group: NewAdGroup
    ) -> builtins.list[Any]:
        row = AdGroup(
            id=uuid.uuid4(), tenant_id=tenant_id, campaign_id=campaign_id, position=position
        )
        _assign(row, _spec_columns(ad_group.spec))
        rows: builtins.list[Any] = [row]
        rows += [_ad_row(tenant_id, row.id, index, ad) for index, ad in enumerate(ad_group.ads)]
        for keyword in ad_group.spec.keywords:
            keyword_row = Keyword(id=uuid.uuid4(), tenant_id=tenant_id, ad_group_id=row.id)
            rows.append(_assign(keyword_row, _spec_columns(keyword)))
        return rows

    async def _write(self, change: Any, name: str | None = None, row: Any = None) -> None:
        """Apply `change()` and flush inside a savepoint; a unique-name clash becomes
        DuplicateNameError and leaves the session usable (and `row`, the edited row, as
        stored: the rollback expired it, and an expired row cannot lazy-load in async code)."""
        try:
            async with self.session.begin_nested():
                change()
        except IntegrityError as exc:
            if row is not None:
                await self.session.refresh(row)
            duplicate = _duplicate(exc, name)
            if duplicate is None:
                raise
            raise duplicate from exc

    async def _edit(self, row: Any, spec_type: type[Any], changes: Mapping[str, Any]) -> bool:
        """Apply spec fields that differ; marks the row pending. Whether anything changed."""
        if unknown := set(changes) - set(spec_type.model_fields):
            raise ValueError(f"unknown {spec_type.__name__} fields: {sorted(unknown)}")
        values: dict[str, Any] = {}
        for field, value in changes.items():
            values |= _column_values(field, value)
        differing = {key: value for key, value in values.items() if getattr(row, key) != value}
        if not differing:
            return False
        # An entity in conflict stays in conflict until a person resolves it (its other
        # fields are still pushed); the last sync's error no longer describes the entity.
        if row.sync_status != "conflict":
            differing["sync_status"] = "pending"
        if hasattr(row, "sync_error"):
            differing["sync_error"] = None
        name = changes.get("name") or changes.get("text")
        await self._write(lambda: _assign(row, differing), name, row)
        return True

    async def _delete(
        self,
        row: GeneratedCampaign | AdGroup | GeneratedAd,
        entity_type: EntityType,
        platform_id: str | None,
    ) -> Deleted:
        if platform_id is not None or await self._create_in_flight(entity_type, row.id):
            tombstone = {"deleted_at": datetime.now(UTC), "sync_status": "pending"}
            await self._write(lambda: _assign(row, tombstone))
            return "soft_deleted"
        await self._forget_sync_records(entity_type, [row.id])
        model = type(row)
        await self.session.execute(delete(model).where(model.id == row.id))
        return "deleted"

    async def _create_in_flight(self, entity_type: str, entity_id: uuid.UUID) -> bool:
        statement = select(_create_in_flight(entity_type, entity_id))
        return bool(await self.session.scalar(statement))

    async def _forget_sync_records(self, entity_type: EntityType, ids: Any) -> None:
        """Delete the sync records of entities about to be hard-deleted, and their children's
        (`ids`: a list of ids or a SELECT of them)."""
        targets = [(entity_type, ids)]
        if entity_type == "campaign":
            ids = select(AdGroup.id).where(AdGroup.campaign_id.in_(ids))
            targets.append(("ad_group", ids))
        if entity_type in ("campaign", "ad_group"):
            targets.append(("ad", select(GeneratedAd.id).where(GeneratedAd.ad_group_id.in_(ids))))
        condition = or_(
            *(
                and_(SyncRecord.entity_type == kind, SyncRecord.entity_id.in_(kind_ids))
                for kind, kind_ids in targets
            )
        )
        await self.session.execute(delete(SyncRecord).where(condition))

    async def _next_position(self, parent_key: Any, parent_id: uuid.UUID) -> int:
        table = parent_key.class_
        statement = select(func.coalesce(func.max(table.position), -1) + 1).where(
            parent_key == parent_id
        )
        return int(await self.session.scalar(statement) or 0)

    async def _keywords_changed(self, ad_group_id: uuid.UUID) -> None:
        """Keywords are sent as their ad group's targeting: the ad group needs a sync."""
        await self.session.execute(
            update(AdGroup)
            .where(AdGroup.id == ad_group_id, AdGroup.sync_status != "conflict")
            .values(sync_status="pending")
        )
        await self._touch_set_of_ad_group(ad_group_id)

    async def _touch_set(self, set_id: uuid.UUID | Any) -> None:
        """The set has local changes its platform does not have yet."""
        await self.session.execute(
            update(CampaignSet).where(CampaignSet.id == set_id).values(sync_status="pending")
        )

    async def _touch_set_of_campaign(self, campaign_id: uuid.UUID) -> None:
        await self._touch_set(
            select(GeneratedCampaign.campaign_set_id)
            .where(GeneratedCampaign.id == campaign_id)
            .scalar_subquery()
        )

    async def _touch_set_of_ad_group(self, ad_group_id: uuid.UUID) -> None:
        await self._touch_set(
            select(GeneratedCampaign.campaign_set_id)
            .join(AdGroup, AdGroup.campaign_id == GeneratedCampaign.id)
            .where(AdGroup.id == ad_group_id)
            .scalar_subquery()
        )


async def _first(session: AsyncSession, statement: Select[Entity]) -> Entity | None:
    """The row, refreshed: bulk UPDATEs here (sync status, touches) bypass the identity map."""
    return await session.scalar(statement.execution_options(populate_existing=True))


def _assign(row: Any, values: Mapping[str, Any]) -> Any:
    for key, value in values.items():
        setattr(row, key, value)
    return row


def _ad_row(
    tenant_id: uuid.UUID, ad_group_id: uuid.UUID, position: int, spec: AdSpec
) -> GeneratedAd:
    row = GeneratedAd(
        id=uuid.uuid4(), tenant_id=tenant_id, ad_group_id=ad_group_id, position=position
    )
    return _assign(row, _spec_columns(spec))  # type: ignore[no-any-return]


def _create_in_flight(entity_type: str, entity_id: Any) -> Any:
    """EXISTS a sync record showing the platform may already have the entity: a create was
    requested (its outcome unknown) or a platform id was recorded."""
    return exists().where(
        SyncRecord.entity_type == entity_type,
        SyncRecord.entity_id == entity_id,
        or_(SyncRecord.state == "requested", SyncRecord.platform_id.is_not(None)),
    )


def _visible(model: Any, tenant_id: uuid.UUID, include_deleted: bool) -> ColumnElement[bool]:
    criteria = model.tenant_id == tenant_id
    return criteria if include_deleted else and_(criteria, model.deleted_at.is_(None))


def _ad_group_subtree(tenant_id: uuid.UUID, include_deleted: bool) -> list[Any]:
    return [
        selectinload(AdGroup.ads.and_(_visible(GeneratedAd, tenant_id, include_deleted))),
        selectinload(AdGroup.keywords.and_(_visible(Keyword, tenant_id, include_deleted))),
    ]


def _campaign_subtree(tenant_id: uuid.UUID, include_deleted: bool) -> list[Any]:
    ad_groups = GeneratedCampaign.ad_groups.and_(_visible(AdGroup, tenant_id, include_deleted))
    return [selectinload(ad_groups).options(*_ad_group_subtree(tenant_id, include_deleted))]


def _live(model: type[Entity], tenant_id: uuid.UUID, entity_id: uuid.UUID) -> Select[Entity]:
    """A tenant's entity by id, if neither it nor any ancestor is soft-deleted."""
    table: Any = model
    statement = select(model).where(
        table.tenant_id == tenant_id, table.id == entity_id, table.deleted_at.is_(None)
    )
    if model is Keyword or model is GeneratedAd:
        statement = statement.join(AdGroup, AdGroup.id == table.ad_group_id).where(
            AdGroup.deleted_at.is_(None)
        )
    if model is not GeneratedCampaign:
        statement = statement.join(
            GeneratedCampaign, GeneratedCampaign.id == AdGroup.campaign_id
        ).where(GeneratedCampaign.deleted_at.is_(None))
    return statement
