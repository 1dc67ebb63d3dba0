"""A campaign set checked against Google Ads' rules before a sync (`POST /validate`, and the
sync's own refusal): every problem at once, with the API's field paths. The rules are the
payload builders' (`domain.google_payloads`), so validation and the sync never disagree:
whatever builds here is what the adapter sends."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flightdeck.domain import google_payloads as payloads
from flightdeck.domain.set_validation import (
    CampaignNode,
    Problem,
    SetTree,
    account_problems,
    unique,
)

KEYWORD_FIELD_PREFIX = "keywords."


def validate_google_set(tree: SetTree) -> list[Problem]:
    problems = account_problems(tree)
    for campaign in (c for c in tree.campaigns if not c.deleted):
        problems += _campaign(campaign)
        groups = [g for g in campaign.ad_groups if not g.deleted]
        for group in groups:
            check = _checker(problems, group.path, "ad_group", group.id)
            check(partial(payloads.ad_group_create, group.spec, "g", "c"))
            for index, keyword in enumerate(group.spec.keywords):
                check(partial(payloads.keyword_create, keyword, "g", index))
            for ad in (a for a in group.ads if not a.deleted):
                _checker(problems, ad.path, "ad", ad.id)(
                    partial(payloads.ad_group_ad_create, ad.spec, "g", "x")
                )
    return unique(problems)


def _campaign(node: CampaignNode) -> list[Problem]:
    problems: list[Problem] = []
    check = _checker(problems, node.path, "campaign", node.id)
    groups = [g.spec for g in node.ad_groups if not g.deleted]
    check(partial(payloads.budget, node.spec))
    check(partial(payloads.campaign_create, node.spec, "c", "b", groups))
    return problems


def _checker(
    problems: list[Problem], path: str, entity_type: str, entity_id: str
) -> Callable[[Callable[[], object]], None]:
    def check(build: Callable[[], object]) -> None:
        try:
            build()
        except payloads.GooglePayloadError as exc:
            problems.append(Problem(f"{path}.{exc.field}", exc.reason, entity_type, entity_id))

    return check
