"""Alembic revisions of the CRM schema."""
