"""Users and roles: what each API key may do, and the publish targets a tenant owns."""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["viewer", "editor", "approver", "admin"]
# Ordered: each role may do everything the ones before it may.
ROLES: tuple[str, ...] = get_args(Role)

PublishTargetKind = Literal["strategis_organization", "facebook_ad_account"]
PUBLISH_TARGET_KINDS: tuple[str, ...] = get_args(PublishTargetKind)


def role_at_least(role: str, minimum: Role) -> bool:
    """`viewer` reads; `editor` writes; `approver` also approves actions; `admin` manages users."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(minimum)
