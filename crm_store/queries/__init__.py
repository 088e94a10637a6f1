"""Scoped queries: every function takes `session` (and `scope` when access matters) first.

A record the scope may not see is indistinguishable from a missing one.
"""

from crm_store.queries.accounts import AccountMatch, AccountSummary
from crm_store.queries.deals import Period

__all__ = ["AccountMatch", "AccountSummary", "Period"]
