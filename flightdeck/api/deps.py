"""Request dependencies: settings, DB session (commit at the boundary), Temporal, tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from flightdeck.api.errors import ApiError
from flightdeck.db.models import Tenant
from flightdeck.db.repositories.tenants import ApiKeyRepository
from flightdeck.db.tenancy import scope_to_tenant
from flightdeck.settings import Settings

bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


def get_temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]


async def get_tenant(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Tenant:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "missing API key", {"WWW-Authenticate": "Bearer"})
    tenant = await ApiKeyRepository(session).resolve(credentials.credentials)
    if tenant is None:
        raise ApiError(401, "unauthorized", "invalid API key", {"WWW-Authenticate": "Bearer"})
    # From here on the request sees only its tenant's rows, whatever a query forgets.
    await scope_to_tenant(session, tenant.id)
    return tenant


TenantDep = Annotated[Tenant, Depends(get_tenant)]
