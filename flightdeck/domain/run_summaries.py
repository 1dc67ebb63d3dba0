"""What the Temporal Web UI shows for a run and each of its activities: short business sentences
("Publish BrandX · hookset_juvederm · 3 ad sets / 6 ads", "create ad set 2 'aud1_…' on
Facebook") instead of ids. Pure functions, used by the API (workflow starts) and workflows."""

from __future__ import annotations

import re

MAX_NAME = 40  # the UI shows one line: long generated names are cut

_INDEXED = re.compile(r"^(\w+)\[(\d+)\](?:\[(\d+)\])?$")
_META_STEPS = {
    "campaign": "create the campaign on Meta",
    "adset": "create the ad set on Meta",
    "verify": "read everything back from Meta",
    "activate": "activate the campaign on Meta",
}
_META_INDEXED = {"image": "upload image {n} to Meta", "creative": "create creative {n} on Meta",
                 "ad": "create ad {n} on Meta"}  # fmt: skip


def short(name: str) -> str:
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def publish_plan_summary(brand: str, hook_set_id: str, ad_sets: int, ads: int) -> str:
    return f"Publish {brand} · {hook_set_id} · {plural(ad_sets, 'ad set')} / {plural(ads, 'ad')}"


def describe_meta_step(step: str) -> str:
    """`creative[2]` → "create creative 3 on Meta"."""
    if step in _META_STEPS:
        return _META_STEPS[step]
    found = _INDEXED.match(step)
    if found and found.group(1) in _META_INDEXED:
        return _META_INDEXED[found.group(1)].format(n=int(found.group(2)) + 1)
    return step.replace("_", " ")
