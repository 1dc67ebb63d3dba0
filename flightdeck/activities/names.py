"""Activity names: the contract between workflows and activity implementations.

Workflows call activities by these names so they never import the modules that do I/O.
"""

ENSURE_TEMPLATE = "strategis.ensure_template"
CREATE_RELAY_OBJECT = "strategis.create_relay_object"
# An ad set, its tracking campaign, its creatives and ads: 2 + 2 × ads creates, one activity.
PUBLISH_AD_SET = "strategis.publish_ad_set"
CREATE_TRACKING_CAMPAIGN = "strategis.create_tracking_campaign"
COMPENSATE_PLAN = "strategis.compensate_plan"
SET_PLAN_STATUS = "plans.set_status"
RECORD_PLAN_FAILURE = "plans.record_failure"
SWEEP_PENDING_PLANS = "plans.sweep_pending"

# Campaign-set sync (seed 002). `sync.push_entity` runs on the platform's task queue (rate
# limited); the bookkeeping ones run on the main queue.
PREPARE_SET_SYNC = "sync.prepare_set_sync"
FINISH_SET_SYNC = "sync.finish_set_sync"
NEXT_CAMPAIGN_PAGE = "sync.next_campaign_page"
PUSH_ENTITY = "sync.push_entity"
RECORD_CAMPAIGN_OUTCOME = "sync.record_campaign_outcome"
# On the platform's queue: a stopped push's creates whose answer was lost, found and mapped.
SETTLE_LOST_CREATES = "sync.settle_lost_creates"
FIND_RETRYABLE_SYNCS = "sync.find_retryable_syncs"
START_SET_SYNC = "sync.start_set_sync"
# Signal-with-start of a set's entity workflow (campaign-set-{setId}), for the retry sweep.
REQUEST_SET_OPERATION = "sync.request_set_operation"

# Sync-back and conflicts (seed 002 §6).
LIST_SYNC_BACK_ACCOUNTS = "sync_back.list_accounts"
SYNC_BACK_ACCOUNT = "sync_back.sync_account"
APPLY_CONFLICT_RESOLUTION = "sync_back.apply_resolution"
ESCALATE_CONFLICT = "sync_back.escalate_conflict"
START_CONFLICT_WORKFLOWS = "sync_back.start_conflict_workflows"

# Asset imports (seed 003). `asset_import.discover` runs on the platform's read queue (its
# rate limit applies); the others on the main queue.
PREPARE_ASSET_IMPORT = "asset_import.prepare"
DISCOVER_ASSET_IMPORT = "asset_import.discover"
IMPORT_ASSET_BATCH = "asset_import.import_batch"
FINISH_ASSET_IMPORT = "asset_import.finish"

# Publishing to the Meta Graph API (seed 001). The `meta.*` creates and reads run on the `meta`
# task queue (rate limited for every worker); bookkeeping on the main queue.
META_BEGIN_PUBLISH = "meta.begin_publish"
META_UPLOAD_IMAGE = "meta.upload_image"
META_CREATE_CAMPAIGN = "meta.create_campaign"
META_CREATE_ADSET = "meta.create_adset"
META_CREATE_CREATIVE = "meta.create_creative"
META_CREATE_AD = "meta.create_ad"
META_ACTIVATE = "meta.activate"
META_VERIFY = "meta.verify"
META_COMPENSATE = "meta.compensate"
META_FINISH_PUBLISH = "meta.finish_publish"
META_CHECK_REVIEWS = "meta.check_reviews"
META_REVIEW_ALERT = "meta.review_alert"
META_FINISH_REVIEW = "meta.finish_review"
META_OPERATE = "meta.operate"
META_CLEAN_FAILED = "meta.clean_failed_publishes"
META_ARCHIVE_AUDIT = "meta.archive_audit"

# Metrics, alerts, recommendations (seed 004). `metrics.sync_account` runs on the platform's
# reporting queue (its rate limit applies); the others on the metrics queue.
METRICS_PREPARE = "metrics.prepare"
METRICS_SYNC_ACCOUNT = "metrics.sync_account"
METRICS_ACCOUNT_FAILED = "metrics.account_failed"
METRICS_ANALYZE = "metrics.analyze"
ALERTS_NOTIFY = "alerts.notify"

# Actions after approval (seed 004). `actions.execute_step` runs on the platform's write queue.
ACTIONS_PREPARE = "actions.prepare"
ACTIONS_EXECUTE_STEP = "actions.execute_step"
ACTIONS_FINISH = "actions.finish"
