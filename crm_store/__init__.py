"""CRM store: SQLAlchemy models, scoped queries, migrations, demo data and importers.

Import the pieces from their modules (`crm_store.db`, `crm_store.queries.accounts`, ...);
the identity types live here because every caller needs them.
"""

from crm_store.scope import Role, Scope

__all__ = ["Role", "Scope"]
