"""Prepare, shared by `POST …/prepare` and `POST …/publish`: read a campaign's sections, ads and
Meta connection, build seed 001's `publish_data` with every problem found at once, and save it;
`validate_with_graph` also has Graph check each object with `execution_options=["validate_only"]`
(nothing is created)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.accounts.meta import MetaConnectionService, connection_facts
from flightdeck.api.meta_models import GraphCheck
from flightdeck.db.models import MetaCampaign
from flightdeck.db.repositories.meta import (
    CampaignStateRepository,
    MetaAdRepository,
    MetaConnectionRepository,
    MetaPublishedRepository,
)
from flightdeck.domain.meta_publish import AdRow, Prepared, creative_params, our_fields, prepare
from flightdeck.domain.meta_sections import COLUMNS
from flightdeck.platforms.errors import PlatformError
from flightdeck.platforms.meta_errors import MetaValidationError
from flightdeck.settings import Settings


async def sections_of(
    session: AsyncSession, tenant_id: uuid.UUID, campaign_id: uuid.UUID
) -> dict[str, Any]:
    state = await CampaignStateRepository(session).get(tenant_id, campaign_id)
    if state is None:
        return {}
    return {
        section: getattr(state, column)
        for section, column in COLUMNS.items()
        if getattr(state, column) is not None
    }


async def prepare_campaign(
    session: AsyncSession, campaign: MetaCampaign, settings: Settings
) -> Prepared:
    """Build and save publish_data; the caller commits."""
    tenant = campaign.tenant_id
    states = CampaignStateRepository(session)
    state = await states.get(tenant, campaign.id)
    sections = await sections_of(session, tenant, campaign.id)
    ads = await MetaAdRepository(session).list_for_campaign(tenant, campaign.id)
    connection = None
    if campaign.meta_connection_id is not None:
        row = await MetaConnectionRepository(session).get(tenant, campaign.meta_connection_id)
        connection = connection_facts(row) if row is not None else None
    previous = (state.publish_data or {}).get("metadata") if state is not None else None
    prepared = prepare(
        name=campaign.name,
        sections=sections,
        connection=connection,
        ads=[AdRow(str(ad.id), ad.name) for ad in ads],
        previous_metadata=previous,
        now=datetime.now(UTC),
        token_validity_needed=timedelta(seconds=settings.meta_token_min_validity_seconds),
    )
    if prepared.publish_data is not None:
        await states.set_columns(tenant, campaign.id, publish_data=prepared.publish_data)
    return prepared


async def validate_with_graph(
    session: AsyncSession,
    campaign: MetaCampaign,
    prepared: Prepared,
    connections: MetaConnectionService,
) -> list[GraphCheck]:
    """Each object through Graph's validate_only. An ad set needs its campaign to exist on Meta
    and an ad its ad set and creative: until they exist, Graph cannot check them, and our own
    rules (the prepare problems) stand in."""
    data = prepared.publish_data
    assert data is not None and campaign.meta_connection_id is not None
    token = await connections.user_token(campaign.tenant_id, campaign.meta_connection_id)
    account = str(data["metadata"]["adAccountId"])
    published = await MetaPublishedRepository(session).get(campaign.tenant_id, campaign.id)
    graph = connections.graph
    validate = {"execution_options": ["validate_only"]}
    checks: list[GraphCheck] = []

    async def check(
        kind: str, name: str, edge: str, params: dict[str, Any], index: int | None
    ) -> None:
        try:
            await graph.post(f"{account}/{edge}", token, {**params, **validate}, account=account)
            checks.append(GraphCheck(object=kind, name=name, checked_by="graph", ok=True))
        except MetaValidationError as exc:
            fields = our_fields(exc.blame_fields, index)
            prepared.problems.append(
                {
                    "field": fields[0] if fields else kind,
                    "code": "graph_refused",
                    "message": exc.message,
                }
            )
            checks.append(
                GraphCheck(
                    object=kind, name=name, checked_by="graph", ok=False, message=exc.message
                )
            )

    await check("campaign", data["campaign"]["name"], "campaigns", data["campaign"], None)
    for index, creative in enumerate(data["creatives"]):
        image_hash = data["metadata"]["imageHashes"].get(creative["imageUrl"])
        params = creative_params(creative, image_hash or "", creative["name"])
        if image_hash is None:  # not uploaded yet: Graph checks it with the picture URL
            link = dict(params["object_story_spec"]["link_data"])
            link.pop("image_hash")
            link["picture"] = creative["imageUrl"]
            params["object_story_spec"] = {**params["object_story_spec"], "link_data": link}
        await check(f"creative[{index}]", creative["name"], "adcreatives", params, index)
    if published is not None and published.meta_campaign_id:
        adset = {**data["adset"], "campaign_id": published.meta_campaign_id}
        await check("adset", data["adset"]["name"], "adsets", adset, None)
    else:
        checks.append(GraphCheck(
            object="adset", name=data["adset"]["name"], checked_by="local",
            ok=not prepared.problems,
            message="Graph validates an ad set under an existing campaign; checked by "
            "Flightdeck's rules",
        ))  # fmt: skip
    for index, ad in enumerate(data["ads"]):
        checks.append(GraphCheck(
            object=f"ad[{index}]", name=ad["name"], checked_by="local", ok=not prepared.problems,
            message="Graph validates an ad under an existing ad set and creative; checked by "
            "Flightdeck's rules",
        ))  # fmt: skip
    return checks


__all__ = ["PlatformError", "prepare_campaign", "sections_of", "validate_with_graph"]
