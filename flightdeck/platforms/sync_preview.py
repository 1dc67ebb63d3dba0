"""A sync dry run (`POST /campaign-sets/{id}/sync?dryRun=true`): the requests a push would send,
in the order it sends them, without sending any.

The walk mirrors the push (`activities/sync.py`): per campaign, its create / patch / deletion
(nothing while it is in conflict), then its ad groups, then per ad group its ads (creative
first). The platform's `CampaignSetPlatformAdapter` builds every request; the platform module
gives it a recording client (`PlatformEntry.preview`, `platforms/registry.py`). An entity the
adapter refuses is a problem, and the walk goes on with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flightdeck.domain.set_validation import (
    AdGroupNode,
    AdNode,
    CampaignNode,
    Problem,
    SetTree,
)
from flightdeck.platforms.campaign_set_adapter import AccountContext, CampaignSetPlatformAdapter
from flightdeck.platforms.errors import PlatformError


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    body: dict[str, Any] | None
    entity_type: str | None = None
    entity_id: str | None = None
    field: str | None = None  # the entity's path in the set

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "entityType": self.entity_type,
            "entityId": self.entity_id,
            "entityPath": self.field,
        }


class PreviewRecorder:
    """What a recording client keeps: the requests, and the label of the entity being pushed
    (new objects get `{label}` as their id)."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.label = "new"

    def placeholder_id(self) -> str:
        return "{" + self.label + "}"


@dataclass
class Preview:
    requests: list[dict[str, Any]]
    problems: list[Problem]


async def preview_push(
    tree: SetTree,
    adapter: CampaignSetPlatformAdapter,
    recorder: PreviewRecorder,
    account: AccountContext,
) -> Preview:
    walk = _Walk(adapter, recorder, account)
    for campaign in tree.campaigns:
        await walk.campaign(campaign)
    return Preview(requests=walk.out, problems=walk.problems)


class _Walk:
    def __init__(
        self,
        adapter: CampaignSetPlatformAdapter,
        recorder: PreviewRecorder,
        account: AccountContext,
    ) -> None:
        self.adapter, self.recorder, self.account = adapter, recorder, account
        self.out: list[dict[str, Any]] = []
        self.problems: list[Problem] = []

    async def campaign(self, node: CampaignNode) -> None:
        adapter, account, spec = self.adapter, self.account, node.spec
        platform_id = node.platform_id
        if node.deleted:
            if platform_id and not node.removed_remotely:
                await self._step(
                    node,
                    "campaign",
                    adapter.set_status(account, "campaign", platform_id, "deleted"),
                )
            return
        if not node.in_conflict:
            if platform_id is None:
                made = await self._step(node, "campaign", adapter.create_campaign(account, spec))
                platform_id = made.platform_id if made else "{" + node.path + "}"
            else:
                await self._step(
                    node,
                    "campaign",
                    adapter.update_campaign(account, platform_id, spec, node.base),
                )
        for group in node.ad_groups:
            await self.ad_group(node, group, platform_id or "{" + node.path + "}")

    async def ad_group(self, campaign: CampaignNode, node: AdGroupNode, parent_id: str) -> None:
        adapter, account = self.adapter, self.account
        platform_id = node.platform_id
        if node.deleted:
            if platform_id and not node.removed_remotely:
                await self._step(
                    node,
                    "ad_group",
                    adapter.set_status(account, "ad_group", platform_id, "deleted"),
                )
            return
        if node.in_conflict:
            pass
        elif platform_id is None:
            made = await self._step(
                node,
                "ad_group",
                adapter.create_ad_group(account, parent_id, campaign.spec, node.spec),
            )
            platform_id = made.platform_id if made else None
        else:
            await self._step(
                node,
                "ad_group",
                adapter.update_ad_group(account, platform_id, campaign.spec, node.spec, node.base),
            )
        for ad in node.ads:
            await self.ad(ad, platform_id or "{" + node.path + "}")

    async def ad(self, node: AdNode, parent_id: str) -> None:
        adapter, account = self.adapter, self.account
        if node.deleted:
            if node.platform_id and not node.removed_remotely:
                await self._step(
                    node, "ad", adapter.set_status(account, "ad", node.platform_id, "deleted")
                )
            return
        if node.platform_id is not None:
            await self._step(
                node, "ad", adapter.update_ad(account, node.platform_id, node.spec, node.base)
            )
            return
        post_id = node.post_id
        if post_id is None:
            post = await self._step(
                node,
                "ad",
                adapter.create_ad_creative(account, node.spec),
                label=f"{node.path}.creative",
            )
            if post is None:
                return
            post_id = post.platform_id
        await self._step(node, "ad", adapter.create_ad(account, parent_id, node.spec, post_id))

    async def _step(self, node: Any, entity_type: str, call: Any, label: str | None = None) -> Any:
        """One adapter call: its requests labelled with the entity (a new object's id is
        `{label}`); a refusal is a problem and the walk goes on."""
        self.recorder.label = label or node.path
        start = len(self.recorder.requests)
        try:
            return await call
        except PlatformError as exc:
            fields = exc.details.get("fields") or [{"field": "data", "message": exc.message}]
            for problem in fields:
                self.problems.append(
                    Problem(
                        f"{node.path}.{problem['field']}",
                        str(problem["message"]),
                        entity_type,
                        node.id,
                    )
                )
            return None
        finally:
            for request in self.recorder.requests[start:]:
                self.out.append(
                    RecordedRequest(
                        request.method,
                        request.path,
                        request.body,
                        entity_type,
                        node.id,
                        node.path,
                    ).as_json()
                )
