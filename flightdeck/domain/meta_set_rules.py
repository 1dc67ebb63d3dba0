"""A campaign set checked against Meta's rules before a sync (`POST /validate`, dry run, and
the sync's own refusal): every problem at once, with the API's field paths. The rules are the
payload builders' (`domain.meta_set_payloads`): objectives Graph creates with (OUTCOME_*),
objective/optimization-goal compatibility, budget placement (CBO on the campaign, else on each
ad set) and Meta's minimum daily budgets, name lengths with our adoption marker, two-letter
countries, a Page and an image for each ad. Keywords are not a problem: Meta has none, so the
sync reports them `not_applicable`."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flightdeck.domain import meta_set_payloads as payloads
from flightdeck.domain.set_validation import Problem, SetTree, account_problems, unique


def validate_meta_set(tree: SetTree) -> list[Problem]:
    problems = account_problems(tree)
    page = tree.account.profile_id if tree.account is not None else None
    for campaign in (c for c in tree.campaigns if not c.deleted):
        groups = [g for g in campaign.ad_groups if not g.deleted]
        check = _checker(problems, campaign.path, "campaign", campaign.id)
        check(partial(payloads.campaign_create, campaign.spec, [g.spec for g in groups], "c"))
        if campaign.base is not None:
            check(partial(payloads.campaign_changes, campaign.spec, campaign.base))
        for group in groups:
            check = _checker(problems, group.path, "ad_group", group.id)
            check(partial(payloads.ad_set_create, campaign.spec, "1", group.spec, "g"))
            if group.base is not None:
                check(partial(payloads.ad_set_changes, campaign.spec, group.spec, group.base))
            for ad in (a for a in group.ads if not a.deleted):
                check = _checker(problems, ad.path, "ad", ad.id)
                check(partial(payloads.creative_create, ad.spec, page or None))
                if ad.base is not None:
                    check(partial(payloads.ad_changes, ad.spec, ad.base))
    return unique(problems)


def _checker(
    problems: list[Problem], path: str, entity_type: str, entity_id: str
) -> Callable[[Callable[[], object]], None]:
    def check(build: Callable[[], object]) -> None:
        try:
            build()
        except payloads.MetaPayloadError as exc:
            where = "adAccountId" if exc.field == "adAccountId" else f"{path}.{exc.field}"
            problems.append(Problem(where, exc.reason, entity_type, entity_id))

    return check
