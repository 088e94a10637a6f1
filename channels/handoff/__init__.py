"""Human handoff on the API side: the live socket hub, delivery, routing and the relay.

The state machine itself is `crm_store.queries.handoffs`; this package moves messages
between it and the customer's open web chat (docs/handoff.md).
"""
