"""One settings object for every process (API, worker, CLI), read from `FLIGHTDECK_*` env vars."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A fixed development key so `flightdeck dev` works out of the box; refused outside development.
DEV_ENCRYPTION_KEY = "ZmxpZ2h0ZGVjay1kZXZlbG9wbWVudC1rZXktMzJieXQ="
DEV_STRATEGIS_API_KEY = "dev-strategis-api-key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path(".flightdeck")

    # Postgres: explicit URL, else 127.0.0.1:5432, else an embedded server (see db/bootstrap.py).
    database_url: str | None = None

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://localhost:8233"
    task_queue: str = "flightdeck"
    strategis_task_queue: str = "strategis"
    # Activities per second for the whole `strategis` task queue, enforced by the Temporal server.
    strategis_rate_limit: float = 50.0

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    simulators_port: int = 8100

    strategis_base_url: str = "http://127.0.0.1:8100/strategis"
    strategis_relay_base_url: str = "http://127.0.0.1:8100/relay"
    strategis_api_key: SecretStr = SecretStr(DEV_STRATEGIS_API_KEY)
    strategis_tracking_base_url: str = "https://r.strateg.is"
    strategis_template_key: str = "facebook-tracking-template"
    http_timeout_seconds: float = 30.0

    # AES-256-GCM key (base64 of 32 bytes) for stored platform credentials.
    encryption_key: SecretStr = SecretStr(DEV_ENCRYPTION_KEY)

    # Naming conventions (str.format templates; fields documented in domain/naming.py).
    campaign_name_format: str = (
        "{brand}_{objective}_{hookSetId}_{market}_{channel}_{date}_{category}"
    )
    ad_set_name_format: str = (
        "{audienceKey}_{placementKey}_{optimizationEvent}_{budgetType}_v{version}"
    )
    ad_name_format: str = "{hookId}_{adSetIndex}-{adIndex}"

    publish_activity_timeout_seconds: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            if self.encryption_key.get_secret_value() == DEV_ENCRYPTION_KEY:
                raise ValueError("FLIGHTDECK_ENCRYPTION_KEY must be set in production")
            if self.strategis_api_key.get_secret_value() == DEV_STRATEGIS_API_KEY:
                raise ValueError("FLIGHTDECK_STRATEGIS_API_KEY must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
