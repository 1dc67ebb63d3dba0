"""Request dependencies: settings, DB session (commit at the boundary), Temporal, and who is
asking (`Principal`: tenant, user, role).

Every request that changes something (any method but GET/HEAD/OPTIONS) needs at least the
`editor` role, checked once here for every route; routes that need more say so with
`ApproverDep` / `AdminDep`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from flightdeck.api.errors import ApiError
from flightdeck.db.models import Tenant
from flightdeck.db.repositories.audit_log import act_as
from flightdeck.db.repositories.tenants import ApiKeyRepository
from flightdeck.db.tenancy import NO_SCOPE, scope_to_system, scope_to_tenant
from flightdeck.domain.users import Role, role_at_least
from flightdeck.observability.logs import tenant_id_var
from flightdeck.settings import Settings

bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POSTs that change nothing: the Temporal Web UI's payload codec (any signed-in user).
READ_ONLY_POSTS = frozenset({"/codec/decode", "/codec/encode"})


# Dependencies are `async def` even when they only read app state: FastAPI runs a plain `def`
# dependency in its thread pool, a thread hop per request per dependency (two scheduler
# wake-ups each, which on a busy machine is where a request's tail came from).
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


async def get_temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]


@dataclass(frozen=True)
class Principal:
    """The caller: a named user of one tenant, with a role."""

    tenant: Tenant
    user_id: uuid.UUID
    user_name: str
    role: str
    key_id: uuid.UUID

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.tenant.id

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"user:{self.user_name}"

    def require(self, minimum: Role) -> None:
        if not role_at_least(self.role, minimum):
            raise ApiError(
                403, "forbidden", f"this needs the {minimum} role; {self.user_name} is {self.role}"
            )


async def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "missing API key", {"WWW-Authenticate": "Bearer"})
    await scope_to_system(session, "api.authenticate")
    # From here on the request sees only its tenant's rows, whatever a query forgets: the lookup
    # itself narrows the transaction to the key's tenant (one round trip for both), and an
    # unknown key leaves the session closed: it sees nothing.
    owner = await ApiKeyRepository(session).resolve(credentials.credentials, narrow_scope=True)
    if owner is None:
        await scope_to_tenant(session, NO_SCOPE)
        raise ApiError(401, "unauthorized", "invalid API key", {"WWW-Authenticate": "Bearer"})
    principal = Principal(
        tenant=owner.tenant,
        user_id=owner.user.id,
        user_name=owner.user.name,
        role=owner.user.role,
        key_id=owner.key_id,
    )
    tenant_id_var.set(str(principal.tenant_id))  # for the request's log lines
    if request.method not in SAFE_METHODS and request.url.path not in READ_ONLY_POSTS:
        principal.require("editor")
    act_as(session, principal.actor, principal.user_id)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_tenant(principal: PrincipalDep) -> Tenant:
    return principal.tenant


TenantDep = Annotated[Tenant, Depends(get_tenant)]


def requires(minimum: Role):  # type: ignore[no-untyped-def]
    async def check(principal: PrincipalDep) -> Principal:
        principal.require(minimum)
        return principal

    return check


ApproverDep = Annotated[Principal, Depends(requires("approver"))]
AdminDep = Annotated[Principal, Depends(requires("admin"))]
