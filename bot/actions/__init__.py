"""Custom actions for the CRM assistant, served by `python -m rasa_sdk --actions bot.actions`.

One module per area; every action reads slots and the verified identity in
`tracker.latest_message["metadata"]["crm"]`, calls one `crm_store` query and replies with a
response from `bot/domain.yml`.
"""

from crm_store.business_hours import check_configured
from crm_store.log_redaction import install_log_redaction

# A typo in CRM_BUSINESS_HOURS stops the action server now, not at the first handoff.
check_configured()

# The action server logs failed actions with their exception, which may quote the user's text.
install_log_redaction()
