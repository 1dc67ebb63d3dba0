"""A tenant's performance settings: alert thresholds and data minimums, recommendation targets,
autonomous mode and its guardrails, action expiry, and the alert webhook.

GET  /performance-settings                 the settings (defaults filled in) and whether a
                                           webhook secret exists (never the secret)
PUT  /performance-settings                 admin: replace them; every invalid field at once
                                           (422). Setting a webhook URL the first time creates
                                           its signing secret, returned once as `webhookSecret`
POST /performance-settings/webhook-secret  admin: a new signing secret, returned once
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from fastapi import APIRouter

from flightdeck.api.deps import AdminDep, PrincipalDep, SessionDep, SettingsDep
from flightdeck.api.errors import field_error
from flightdeck.crypto import TokenCipher
from flightdeck.db.repositories.actions import PerformanceSettingsRepository
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.domain.campaign_sets import CamelModel
from flightdeck.domain.performance_settings import PerformanceSettings

router = APIRouter(prefix="/performance-settings", tags=["performance settings"])


class SettingsOut(PerformanceSettings):
    webhook_secret_set: bool = False
    # Only in the answer that created it; store it, it is never shown again.
    webhook_secret: str | None = None


class SecretOut(CamelModel):
    webhook_secret: str


@router.get("", response_model=SettingsOut, response_model_exclude_none=True)
async def get_settings(
    principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> SettingsOut:
    repo = PerformanceSettingsRepository(session)
    current = await repo.get(principal.tenant_id)
    has_secret = await repo.webhook_secret(principal.tenant_id, TokenCipher.from_settings(settings))
    return SettingsOut(**current.model_dump(), webhook_secret_set=has_secret is not None)


@router.put("", response_model=SettingsOut, response_model_exclude_none=True)
async def put_settings(
    body: PerformanceSettings, principal: AdminDep, session: SessionDep, settings: SettingsDep
) -> SettingsOut:
    if body.webhook_url is not None:
        _check_webhook_url(body.webhook_url, production=settings.environment == "production")
    repo = PerformanceSettingsRepository(session)
    cipher = TokenCipher.from_settings(settings)
    await repo.put(principal.tenant_id, body)
    created = None
    if body.webhook_url and await repo.webhook_secret(principal.tenant_id, cipher) is None:
        created = _new_secret()
        await repo.set_webhook_secret(principal.tenant_id, created, cipher)
    await AuditLogRepository(session).add(
        tenant_id=principal.tenant_id,
        action="performance_settings.updated",
        entity_type="performance_settings",
        entity_id=str(principal.tenant_id),
        details=body.model_dump(mode="json", by_alias=True),
    )
    await session.commit()
    has_secret = created is not None or await repo.webhook_secret(principal.tenant_id, cipher)
    return SettingsOut(
        **body.model_dump(), webhook_secret_set=bool(has_secret), webhook_secret=created
    )


@router.post("/webhook-secret", response_model=SecretOut)
async def rotate_webhook_secret(
    principal: AdminDep, session: SessionDep, settings: SettingsDep
) -> SecretOut:
    secret = _new_secret()
    await PerformanceSettingsRepository(session).set_webhook_secret(
        principal.tenant_id, secret, TokenCipher.from_settings(settings)
    )
    await AuditLogRepository(session).add(
        tenant_id=principal.tenant_id,
        action="performance_settings.webhook_secret_rotated",
        entity_type="performance_settings",
        entity_id=str(principal.tenant_id),
    )
    await session.commit()
    return SecretOut(webhook_secret=secret)


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _check_webhook_url(url: str, *, production: bool) -> None:
    parts = urlsplit(url)
    allowed = ("https",) if production else ("https", "http")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise field_error("webhookUrl", "has an invalid port") from None
    if parts.scheme not in allowed or not parts.hostname:
        raise field_error("webhookUrl", f"must be an absolute {' or '.join(allowed)} URL")
    if parts.username or parts.password:
        raise field_error("webhookUrl", "must not carry credentials")
