"""Activity names: the contract between workflows and activity implementations.

Workflows call activities by these names so they never import the modules that do I/O.
"""

ENSURE_TEMPLATE = "strategis.ensure_template"
CREATE_RELAY_OBJECT = "strategis.create_relay_object"
CREATE_TRACKING_CAMPAIGN = "strategis.create_tracking_campaign"
COMPENSATE_PLAN = "strategis.compensate_plan"
SET_PLAN_STATUS = "plans.set_status"
RECORD_PLAN_FAILURE = "plans.record_failure"
