"""Custom actions for the CRM assistant, served by `python -m rasa_sdk --actions bot.actions`.

One module per area; every action reads slots and the verified identity in
`tracker.latest_message["metadata"]["crm"]`, calls one `crm_store` query and replies with a
response from `bot/domain.yml`.
"""

import os

from crm_store.business_hours import check_configured
from crm_store.log_context import install_log_context, use_json_logs
from crm_store.log_redaction import install_log_redaction
from crm_store.production import require_production_secrets

# A typo in CRM_BUSINESS_HOURS stops the action server now, not at the first handoff; so
# does a default secret under CRM_ENV=production.
check_configured()
require_production_secrets()

# The action server logs failed actions with their exception, which may quote the user's text.
install_log_redaction()
# Request and conversation ids in every line; JSON lines when CRM_LOG_FORMAT=json.
install_log_context()
if os.environ.get("CRM_LOG_FORMAT", "").strip().lower() == "json":
    use_json_logs()
