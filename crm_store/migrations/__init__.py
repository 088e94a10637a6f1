"""Alembic migration environment (a package so it ships with crm_store)."""
