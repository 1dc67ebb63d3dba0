"""Who may do what: users (each with a role) and their API keys, and the publish targets
(Strategis organizations, Facebook ad accounts) the tenant registered as its own.

GET  /me                              the caller: tenant, user, role
GET  /users                 (admin)   the tenant's users
POST /users                 (admin)   {name, role} → the user and its first key (shown once)
PATCH /users/{id}           (admin)   {role?, disabled?}
POST /users/{id}/api-keys   (admin)   a new key for the user (shown once)
DELETE /api-keys/{id}       (admin, or the key's own user) revoke it
GET  /publish-targets                 what plans may name
POST /publish-targets       (admin)   {kind: strategis_organization | facebook_ad_account, value}
DELETE /publish-targets/{id} (admin)
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import Field
from sqlalchemy.exc import IntegrityError

from flightdeck.api.deps import AdminDep, PrincipalDep, SessionDep
from flightdeck.api.errors import ApiError, field_error, not_found
from flightdeck.api.paging import PageDep
from flightdeck.api.publishing import parse_uuid
from flightdeck.db.models import ApiKey, PublishTarget, User
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.tenants import (
    ApiKeyRepository,
    PublishTargetRepository,
    UserRepository,
)
from flightdeck.domain.campaign_sets import CamelModel
from flightdeck.domain.users import PublishTargetKind, Role

router = APIRouter(tags=["users and access"])

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@+-]+$")]


class MeOut(CamelModel):
    tenant_id: str
    tenant_name: str
    user_id: str
    user_name: str
    role: str


class UserOut(CamelModel):
    id: str
    name: str
    role: str
    disabled: bool
    created_at: datetime


class UserIn(CamelModel):
    name: Name
    role: Role


class UserPatch(CamelModel):
    role: Role | None = None
    disabled: bool | None = None


class ApiKeyCreated(CamelModel):
    id: str
    user_id: str
    prefix: str
    api_key: str = Field(description="The key itself: shown this once, never stored")


class UserCreated(UserOut):
    api_key: ApiKeyCreated


class UserPage(CamelModel):
    items: list[UserOut]
    next_cursor: str | None = None


class TargetIn(CamelModel):
    kind: PublishTargetKind
    value: str = Field(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f]+$")


class TargetOut(CamelModel):
    id: str
    kind: str
    value: str
    created_at: datetime


class TargetPage(CamelModel):
    items: list[TargetOut]
    next_cursor: str | None = None


def _user(row: User) -> UserOut:
    return UserOut(
        id=str(row.id),
        name=row.name,
        role=row.role,
        disabled=row.disabled_at is not None,
        created_at=row.created_at,
    )


def _key(row: ApiKey, plaintext: str) -> ApiKeyCreated:
    return ApiKeyCreated(
        id=str(row.id), user_id=str(row.user_id), prefix=row.prefix, api_key=plaintext
    )


def _target(row: PublishTarget) -> TargetOut:
    return TargetOut(id=str(row.id), kind=row.kind, value=row.value, created_at=row.created_at)


@router.get("/me", response_model=MeOut)
async def who_am_i(principal: PrincipalDep) -> MeOut:
    return MeOut(
        tenant_id=str(principal.tenant_id),
        tenant_name=principal.tenant.name,
        user_id=str(principal.user_id),
        user_name=principal.user_name,
        role=principal.role,
    )


@router.get("/users", response_model=UserPage)
async def list_users(admin: AdminDep, session: SessionDep, page: PageDep) -> UserPage:
    users = await UserRepository(session).page(
        admin.tenant_id, limit=page.limit, cursor=page.cursor
    )
    return UserPage(items=[_user(u) for u in users.items], next_cursor=users.next_cursor)


@router.post("/users", status_code=201, response_model=UserCreated)
async def create_user(body: UserIn, admin: AdminDep, session: SessionDep) -> UserCreated:
    users = UserRepository(session)
    if await users.get_by_name(admin.tenant_id, body.name) is not None:
        raise ApiError(409, "conflict", f"a user named {body.name!r} already exists")
    try:
        user = await users.create(admin.tenant_id, body.name, body.role)
        key, plaintext = await ApiKeyRepository(session).create_for(admin.tenant_id, user.id)
        await _audit(
            session, admin, "user.created", "user", user.id, name=user.name, role=user.role
        )
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise ApiError(409, "conflict", f"a user named {body.name!r} already exists") from None
    return UserCreated(**_user(user).model_dump(), api_key=_key(key, plaintext))


@router.patch("/users/{user_id}", response_model=UserOut)
async def update_user(
    user_id: str, body: UserPatch, admin: AdminDep, session: SessionDep
) -> UserOut:
    users = UserRepository(session)
    user = await _load_user(users, admin.tenant_id, user_id)
    values: dict[str, object] = {}
    if body.role is not None:
        values["role"] = body.role
    if body.disabled is not None:
        values["disabled_at"] = datetime.now(UTC) if body.disabled else None
    demoted = body.role not in (None, "admin") or body.disabled
    if user.role == "admin" and demoted and await users.count_admins(admin.tenant_id) <= 1:
        raise ApiError(409, "conflict", "the tenant's last admin cannot be demoted or disabled")
    if values:
        updated = await users.update(admin.tenant_id, user.id, **values)
        assert updated is not None
        user = updated
        await _audit(session, admin, "user.updated", "user", user.id, **{
            k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()
        })  # fmt: skip
        await session.commit()
    return _user(user)


@router.post("/users/{user_id}/api-keys", status_code=201, response_model=ApiKeyCreated)
async def create_api_key(user_id: str, admin: AdminDep, session: SessionDep) -> ApiKeyCreated:
    user = await _load_user(UserRepository(session), admin.tenant_id, user_id)
    key, plaintext = await ApiKeyRepository(session).create_for(admin.tenant_id, user.id)
    await _audit(session, admin, "api_key.created", "api_key", key.id, user=user.name)
    await session.commit()
    return _key(key, plaintext)


@router.delete("/api-keys/{key_id}", status_code=204, response_class=Response)
async def revoke_api_key(key_id: str, principal: PrincipalDep, session: SessionDep) -> Response:
    keys = ApiKeyRepository(session)
    parsed = parse_uuid(key_id)
    own = parsed is not None and any(k.id == parsed for k in await keys.list_for(
        principal.tenant_id, principal.user_id
    ))  # fmt: skip
    if not own:
        principal.require("admin")
    key = await keys.revoke(principal.tenant_id, parsed) if parsed else None
    if key is None:
        raise not_found("API key")
    await _audit(session, principal, "api_key.revoked", "api_key", key.id)
    await session.commit()
    return Response(status_code=204)


@router.get("/publish-targets", response_model=TargetPage)
async def list_publish_targets(
    principal: PrincipalDep, session: SessionDep, page: PageDep
) -> TargetPage:
    rows = await PublishTargetRepository(session).page(
        principal.tenant_id, limit=page.limit, cursor=page.cursor
    )
    return TargetPage(items=[_target(t) for t in rows.items], next_cursor=rows.next_cursor)


@router.post("/publish-targets", status_code=201, response_model=TargetOut)
async def add_publish_target(body: TargetIn, admin: AdminDep, session: SessionDep) -> TargetOut:
    if body.kind == "facebook_ad_account" and not body.value.startswith("act_"):
        raise field_error("value", "a Facebook ad account id starts with act_")
    target = await PublishTargetRepository(session).add(admin.tenant_id, body.kind, body.value)
    await _audit(session, admin, "publish_target.added", body.kind, body.value)
    await session.commit()
    return _target(target)


@router.delete("/publish-targets/{target_id}", status_code=204, response_class=Response)
async def remove_publish_target(target_id: str, admin: AdminDep, session: SessionDep) -> Response:
    parsed = parse_uuid(target_id)
    target = (
        await PublishTargetRepository(session).remove(admin.tenant_id, parsed) if parsed else None
    )
    if target is None:
        raise not_found("publish target")
    await _audit(session, admin, "publish_target.removed", target.kind, target.value)
    await session.commit()
    return Response(status_code=204)


async def _load_user(users: UserRepository, tenant_id: uuid.UUID, user_id: str) -> User:
    parsed = parse_uuid(user_id)
    user = await users.get(tenant_id, parsed) if parsed else None
    if user is None:
        raise not_found("user")
    return user


async def _audit(
    session: SessionDep,
    principal: PrincipalDep,
    action: str,
    entity_type: str,
    entity_id: object,
    **details: object,
) -> None:
    await AuditLogRepository(session).add(
        tenant_id=principal.tenant_id,
        actor=principal.actor,
        user_id=principal.user_id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        details=dict(details) or None,
    )
