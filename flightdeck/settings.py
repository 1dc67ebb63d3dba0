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
DEV_REDDIT_CLIENT_SECRET = "dev-reddit-client-secret"
DEV_GOOGLE_CLIENT_SECRET = "dev-google-client-secret"
DEV_META_APP_SECRET = "dev-meta-app-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path(".flightdeck")

    # Postgres: explicit URL, else 127.0.0.1:5432, else an embedded server (see db/bootstrap.py).
    database_url: str | None = None
    # Each process's connection pool (README "Configuration"): `db_pool_size` kept connections
    # plus up to `db_max_overflow` opened for bursts (closed again when returned); a caller
    # waits up to `db_pool_timeout_seconds` for one (the API then answers 503). Every API
    # process and every worker has its own pool, so (API processes + workers) × (size +
    # overflow) must stay below Postgres's `max_connections` (100 by default).
    db_pool_size: int = Field(default=30, ge=1, le=1000)
    db_max_overflow: int = Field(default=20, ge=0, le=1000)
    db_pool_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://localhost:8233"
    # A self-hosted cluster behind TLS or Temporal Cloud (README "Temporal beyond one machine"):
    # `temporal_tls` on uses the system CAs; a CA file pins the server's; a client cert + key
    # make it mTLS. `temporal_api_key` authenticates to Temporal Cloud (implies TLS).
    temporal_tls: bool = False
    temporal_tls_server_ca_cert_file: Path | None = None
    temporal_tls_client_cert_file: Path | None = None
    temporal_tls_client_key_file: Path | None = None
    temporal_tls_server_name: str | None = None
    temporal_api_key: SecretStr | None = None
    # AES-256-GCM key (base64 of 32 bytes) encrypting every workflow payload before it reaches
    # Temporal (off when unset); the API's /codec endpoints decode them for the Web UI.
    temporal_payload_key: SecretStr | None = None
    # Origins allowed to call /codec/* from a browser (the Temporal Web UI).
    temporal_codec_cors_origins: list[str] = ["http://localhost:8233", "http://localhost:8080"]

    # Observability (README "Observability"): the worker's Prometheus endpoint (off when
    # unset), the API's /metrics, and `json` logs with tenant, workflow and run ids.
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int | None = None
    api_metrics_enabled: bool = True
    log_format: Literal["text", "json"] = "text"
    task_queue: str = "flightdeck"
    strategis_task_queue: str = "strategis"
    # Activities per second for the whole `strategis` task queue, enforced by the Temporal server.
    strategis_rate_limit: float = 50.0

    api_host: str = "127.0.0.1"
    # Where `flightdeck publish|sets|conflicts|actions` send their requests, and as whom
    # (default: http://api_host:api_port).
    api_url: str | None = None
    api_key: SecretStr | None = None
    api_port: int = 8000
    # `flightdeck api` serves from this many processes sharing the port (SO_REUSEPORT): the API
    # keeps no in-process state, so each is a full copy. 1 on a small machine; ≈ cores elsewhere.
    api_workers: int = Field(default=1, ge=1, le=64)
    simulators_port: int = 8100
    # `flightdeck simulators` / `dev` keep the simulators' state in `<data_dir>/simulators.state`.
    simulators_keep_state: bool = True

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
    # A publish step's platform call (5xx, lost answer) is retried after this, then doubling.
    publish_retry_initial_seconds: float = Field(default=0.5, gt=0)
    # One publish step (a create, with its retries) gives up after this long — a platform down
    # for hours fails the step and the run compensates, instead of retrying for a week — and a
    # whole run after `publish_deadline_seconds` (a timer in the workflow: it ends recorded).
    publish_step_deadline_seconds: float = Field(default=3600.0, gt=0)
    publish_deadline_seconds: float = Field(default=6 * 3600.0, gt=0)
    # Plans left `pending` (their run never started) are started by the `pending-plans-sweep`
    # Schedule after this long (also its interval), or failed with the reason after the expiry.
    pending_plan_grace_seconds: float = Field(default=300.0, gt=0)
    pending_plan_expiry_seconds: float = Field(default=86_400.0, gt=0)
    # What one plan may ask for: beyond this it could not run as one workflow (history and
    # payload limits), so it is refused at POST before anything is stored.
    publish_max_remote_objects: int = Field(default=600, ge=10)
    publish_max_targeting_bytes: int = Field(default=16_384, ge=256)
    # Largest request body the API reads (413 beyond it).
    api_max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # `flightdeck worker` lowers its own CPU priority to this niceness (0–19) at start: on a host
    # it shares with the API, interactive requests then preempt the runs' CPU work (README
    # "Production topology"). 0 leaves it as started; it can only go up, never down.
    worker_niceness: int = Field(default=0, ge=0, le=19)
    # On SIGTERM/SIGINT a worker stops polling and lets in-flight activities finish this long.
    worker_shutdown_grace_seconds: float = Field(default=20.0, ge=0)
    # A workflow task waits this long for the worker that has the run cached (its sticky queue)
    # before any worker may take it: how soon runs go on after their worker died.
    worker_sticky_timeout_seconds: float = Field(default=10.0, gt=0)
    # How long the API waits on Temporal before answering 503 (nothing changed).
    temporal_rpc_timeout_seconds: float = Field(default=5.0, gt=0)

    # Reddit Ads (seed 002). Production: https://ads-api.reddit.com/api/v3 and
    # https://www.reddit.com; dev points at the simulators.
    reddit_ads_base_url: str = "http://127.0.0.1:8100/reddit/api/v3"
    reddit_oauth_base_url: str = "http://127.0.0.1:8100/reddit"
    reddit_client_id: str = "flightdeck-dev"
    reddit_client_secret: SecretStr = SecretStr(DEV_REDDIT_CLIENT_SECRET)
    reddit_redirect_uri: str = "http://127.0.0.1:8000/api/v1/ad-accounts/reddit/callback"
    # Reddit asks for `<platform>:<app id>:<version> (by /u/<username>)`.
    reddit_user_agent: str = "python:flightdeck:v0.1.0 (by /u/flightdeck)"
    reddit_task_queue: str = "reddit"
    # Activities per second on the `reddit` task queue, for all workers together. The Ads API's
    # campaign-management write policy is 200 per 60 s; stay just under it.
    reddit_rate_limit: float = Field(default=3.2, gt=0)
    # Ad posts count against Reddit's creative-management policy (also 200 per 60 s): they run
    # on `<reddit_task_queue>-creative` with a budget of their own.
    reddit_creative_rate_limit: float = Field(default=3.2, gt=0)
    # Set sync: campaigns per child workflow, and child workflows running at once.
    sync_batch_size: int = Field(default=25, ge=1, le=500)
    sync_window: int = Field(default=4, ge=1, le=100)
    # Set-sync pushes one worker runs at once per platform queue (writes, creatives). Each
    # holds pooled connections while it runs: far more than the pool (`db_pool_size` +
    # `db_max_overflow`) and, on a busy host, pushes wait for a connection inside their
    # attempt's time instead of in the task queue (then give up as "too little of this
    # attempt's time left", and every retry looks the object up first). 20 per queue: no such
    # timeouts in the 3-platform bench on a busy 2-core host, where 100 had hundreds.
    sync_max_concurrent_pushes: int = Field(default=20, ge=1, le=1000)
    # Child workflows per run of the set's workflow before it continues as new.
    sync_batches_per_run: int = Field(default=20, ge=1, le=500)
    # A set's entity workflow (`campaign-set-{setId}`, one operation at a time) ends after this
    # long with nothing to do; the next request starts it again.
    set_entity_idle_seconds: float = Field(default=60.0, gt=0, le=86_400)
    # Retries of one platform call inside a sync (5xx, timeouts; 429s wait the server's reset
    # time), starting at `sync_retry_initial_seconds` and doubling; then the campaign fails.
    # A sync-back's read of an account retries from the same first delay (5 attempts).
    sync_call_max_attempts: int = Field(default=8, ge=1)
    sync_retry_initial_seconds: float = Field(default=1.0, gt=0)
    # Failed-campaign retry sweep (a Temporal Schedule) and its attempt cap.
    sync_retry_interval_seconds: float = Field(default=300.0, gt=0)
    sync_max_attempts: int = Field(default=3, ge=1)
    # Sync-back (seed 002 §6): the Schedule's interval, and how long a conflict may wait for a
    # person before it escalates (an alert + audit entry; it keeps waiting).
    sync_back_interval_seconds: float = Field(default=900.0, gt=0)
    conflict_escalation_seconds: float = Field(default=86_400.0, gt=0)
    # Page size of the sync-back's list calls (Reddit's maximum is 1000).
    sync_back_page_size: int = Field(default=1000, ge=1, le=1000)
    # A cycle that finds more than this share of an account's synced entities gone on the
    # platform (an emptied or wrong account, an outage answering empty lists) deletes nothing:
    # it holds the deletions, raises an alert and waits for a person to release or discard
    # them. Up to `sync_back_delete_hold_minimum` deletions are always applied.
    sync_back_max_delete_share: float = Field(default=0.2, ge=0, le=1)
    sync_back_delete_hold_minimum: int = Field(default=10, ge=0)
    # Circuit breaker per platform, shared by all workers through Postgres.
    circuit_window_seconds: float = Field(default=300.0, gt=0)
    circuit_failure_ratio: float = Field(default=0.5, gt=0, lt=1)
    circuit_min_calls: int = Field(default=10, ge=1)
    circuit_cooldown_seconds: float = Field(default=60.0, gt=0)

    # Asset library (seed 003). Files go to `storage_backend`: `local` keeps them under
    # `storage_dir` (default `<data_dir>/assets`); `s3` in any S3-compatible bucket.
    storage_backend: Literal["local", "s3"] = "local"
    storage_dir: Path | None = None
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None  # unset = AWS; MinIO, Ceph, … set their URL
    s3_region: str | None = None
    s3_access_key_id: str | None = None  # unset = boto3's usual credential chain
    s3_secret_access_key: SecretStr | None = None
    asset_max_upload_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    # Images announcing more pixels than this are refused before decoding (bombs).
    asset_max_image_pixels: int = Field(default=25_000_000, ge=1)
    asset_thumbnail_size: int = Field(default=256, ge=16, le=1024)
    # Imports: downloads of platform media (size cap; hosts reachable despite being private,
    # loopback or link-local — unset = the simulators' host outside production, none in it).
    asset_download_max_bytes: int = Field(default=30 * 1024 * 1024, ge=1)
    asset_download_allowed_hosts: list[str] | None = None
    asset_import_batch_size: int = Field(default=20, ge=1, le=500)
    # An import's activities heartbeat per item: a dead worker's batch is retried after this.
    asset_import_heartbeat_seconds: float = Field(default=30.0, gt=0)
    csv_import_max_rows: int = Field(default=10_000, ge=1)
    bulk_import_max_entries: int = Field(default=2_000, ge=1)
    bulk_import_max_total_bytes: int = Field(default=2 * 1024 * 1024 * 1024, ge=1)
    bulk_import_max_ratio: float = Field(default=100.0, gt=1)

    @property
    def download_allowed_hosts(self) -> frozenset[str]:
        """`host` or `host:port` entries the import downloader may reach though not public."""
        if self.asset_download_allowed_hosts is not None:
            return frozenset(h.lower() for h in self.asset_download_allowed_hosts)
        if self.environment == "production":
            return frozenset()
        return frozenset({f"127.0.0.1:{self.simulators_port}", f"localhost:{self.simulators_port}"})

    # Meta Graph API (seed 001). Production: https://graph.facebook.com for the API and
    # https://www.facebook.com for the Login dialog; dev points at the simulators.
    meta_graph_base_url: str = "http://127.0.0.1:8100/graph"
    meta_dialog_base_url: str = "http://127.0.0.1:8100/facebook"
    meta_graph_version: str = "v23.0"
    meta_app_id: str = "987654321012345"
    meta_app_secret: SecretStr = SecretStr(DEV_META_APP_SECRET)
    meta_redirect_uri: str = "http://127.0.0.1:8000/api/v1/meta/callback"
    meta_task_queue: str = "meta"
    # Graph calls per second on the `meta` task queue, all workers together (the ad account
    # tier's ads_management budget); usage headers slow it further past meta_slow_at_percent.
    meta_rate_limit: float = Field(default=25.0, gt=0)
    meta_slow_at_percent: float = Field(default=75.0, gt=0, le=100)
    # A publish needs the token valid at least this long (checked before it starts).
    meta_token_min_validity_seconds: float = Field(default=7200.0, ge=0)
    # A publish that has not finished by then stops (paused, recorded as error).
    meta_publish_deadline_seconds: float = Field(default=7200.0, gt=0)
    # Each publish step (with its retries, e.g. throttling) gives up after this long.
    meta_step_timeout_seconds: float = Field(default=1800.0, gt=0)
    # Ad review: an alert when ads are still pending after this long; polls back off from the
    # initial interval to the maximum; tracking ends after meta_review_give_up_seconds.
    meta_review_alert_after_seconds: float = Field(default=172_800.0, gt=0)
    meta_review_poll_initial_seconds: float = Field(default=60.0, gt=0)
    meta_review_poll_max_seconds: float = Field(default=3600.0, gt=0)
    meta_review_give_up_seconds: float = Field(default=1_209_600.0, gt=0)
    # Images fetched from wizard URLs (a server-side request: see platforms/safe_fetch.py).
    image_fetch_max_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    image_fetch_timeout_seconds: float = Field(default=15.0, gt=0)
    # (Hosts reachable although private: `asset_download_allowed_hosts`, shared with imports.)
    # Maintenance (a Temporal Schedule): failed publish attempts are cleaned up after
    # failed_publish_retention_days; audit entries move to audit_log_archive after
    # audit_retention_days.
    maintenance_interval_seconds: float = Field(default=86_400.0, gt=0)
    failed_publish_retention_days: int = Field(default=30, ge=1)
    audit_retention_days: int = Field(default=365, ge=1)

    # Metrics, alerts, recommendations and actions (seed 004). The `metrics-sync` Schedule runs
    # every metrics_sync_interval_seconds (overlap skip) on `metrics_task_queue`; each
    # platform's reads run on `<platform queue>-reports`, rate limited for every worker.
    metrics_task_queue: str = "metrics"
    metrics_sync_interval_seconds: float = Field(default=900.0, gt=0)
    metrics_partitions_ahead_months: int = Field(default=3, ge=1, le=24)
    # An account read for the first time gets this much history (else the lookback window).
    metrics_initial_backfill_days: int = Field(default=60, ge=1, le=1100)
    metrics_account_concurrency: int = Field(default=4, ge=1, le=100)
    # A throttle wait up to this long is slept inside the read; a longer one retries later.
    metrics_max_inline_wait_seconds: float = Field(default=300.0, ge=0)
    # Attribution lookback re-read every cycle so late conversions land (Meta freezes rows
    # after 28 days; Reddit's window defaults to 7).
    meta_insights_lookback_days: int = Field(default=28, ge=1, le=90)
    reddit_reports_lookback_days: int = Field(default=7, ge=1, le=90)
    # Google Ads: conversions keep landing for the conversion window; 14 days as Airbyte
    # re-reads (google-ads-api.md §4). Reports are GAQL searches (one operation each).
    google_reports_lookback_days: int = Field(default=14, ge=1, le=90)
    meta_reports_rate_limit: float = Field(default=2.0, gt=0)
    reddit_reports_rate_limit: float = Field(default=1.0, gt=0)
    google_reports_rate_limit: float = Field(default=1.0, gt=0)
    # Meta Insights: accounts with this many campaigns are read through async report runs
    # (slices of meta_insights_slice_days, polled every meta_insights_poll_seconds).
    meta_insights_async_min_campaigns: int = Field(default=100, ge=0)
    meta_insights_slice_days: int = Field(default=7, ge=1, le=90)
    meta_insights_poll_seconds: float = Field(default=2.0, gt=0)
    meta_insights_job_timeout_seconds: float = Field(default=3600.0, gt=0)
    meta_insights_max_job_attempts: int = Field(default=3, ge=1, le=10)
    meta_insights_page_size: int = Field(default=500, ge=1, le=5000)
    # x-fb-ads-insights-throttle past this percentage slows the account's reads, up to
    # meta_insights_max_pause_seconds per call at 100 %.
    meta_insights_slow_at_percent: float = Field(default=75.0, gt=0, le=100)
    meta_insights_max_pause_seconds: float = Field(default=60.0, ge=0)
    # Meta lists one purchase under several action types: count exactly this one.
    meta_purchase_action_type: str = "offsite_conversion.fb_pixel_purchase"
    meta_attribution_windows: list[str] = Field(default_factory=lambda: ["7d_click", "1d_view"])
    # Reddit reports: the conversion event counted (clicks + views), slices of the window,
    # and calls per minute per account (the ads-reporting policy is 60 per 60 s).
    reddit_conversion_event: str = "PURCHASE"
    reddit_report_slice_days: int = Field(default=31, ge=1, le=90)
    reddit_reports_per_minute: float = Field(default=60.0, gt=0)
    # Recommendations: an optional narrative provider adds prose (never the numbers); "none"
    # keeps them to their templated reasoning. No provider here calls a network.
    narrative_provider: Literal["none", "template"] = "none"
    # Google Ads (issue 14). Production: https://googleads.googleapis.com,
    # https://accounts.google.com/o/oauth2/v2/auth and https://oauth2.googleapis.com/token;
    # dev points at the simulators. The client id/secret are the OAuth client of the Cloud
    # project that holds the Google Ads API access level.
    google_ads_base_url: str = "http://127.0.0.1:8100/google"
    google_ads_api_version: str = "v25"
    google_oauth_authorize_url: str = "http://127.0.0.1:8100/google/o/oauth2/v2/auth"
    google_oauth_token_url: str = "http://127.0.0.1:8100/google/oauth2/v3/token"
    google_client_id: str = "flightdeck-dev.apps.googleusercontent.com"
    google_client_secret: SecretStr = SecretStr(DEV_GOOGLE_CLIENT_SECRET)
    google_redirect_uri: str = "http://127.0.0.1:8000/api/v1/ad-accounts/google/callback"
    # Optional since 2026-09-09 (access levels moved to the Cloud project); sent when set.
    google_developer_token: SecretStr | None = None
    google_task_queue: str = "google"
    # Set-sync writes per second on the `google` queue, all workers together. Google publishes
    # no rate limits (they vary with load, §5; 429 RESOURCE_TEMPORARILY_EXHAUSTED says when);
    # each write is one mutate, and a daily operations cap belongs to the access level.
    google_rate_limit: float = Field(default=10.0, gt=0)
    google_creative_rate_limit: float = Field(default=10.0, gt=0)
    # Campaign sets synced to Meta (issue 14): a queue of their own (the `meta` queue runs the
    # seed-001 publish workflows), Graph writes per second across workers, within the ad
    # account tier's ads_management budget (meta-marketing-api.md §4).
    meta_sets_task_queue: str = "meta-sets"
    meta_sets_rate_limit: float = Field(default=10.0, gt=0)
    meta_sets_creative_rate_limit: float = Field(default=10.0, gt=0)

    # Alert webhooks: a POST signed with the tenant's secret, retried with backoff.
    alert_webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    alert_webhook_max_attempts: int = Field(default=5, ge=1, le=20)

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            if self.encryption_key.get_secret_value() == DEV_ENCRYPTION_KEY:
                raise ValueError("FLIGHTDECK_ENCRYPTION_KEY must be set in production")
            if self.strategis_api_key.get_secret_value() == DEV_STRATEGIS_API_KEY:
                raise ValueError("FLIGHTDECK_STRATEGIS_API_KEY must be set in production")
            if self.reddit_client_secret.get_secret_value() == DEV_REDDIT_CLIENT_SECRET:
                raise ValueError("FLIGHTDECK_REDDIT_CLIENT_SECRET must be set in production")
            if self.google_client_secret.get_secret_value() == DEV_GOOGLE_CLIENT_SECRET:
                raise ValueError("FLIGHTDECK_GOOGLE_CLIENT_SECRET must be set in production")
            if self.meta_app_secret.get_secret_value() == DEV_META_APP_SECRET:
                raise ValueError("FLIGHTDECK_META_APP_SECRET must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
