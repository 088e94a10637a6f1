"""Run Alembic migrations from code; tables are created only this way."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from crm_store.db import get_engine, normalize_url

PACKAGE_DIR = Path(__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    """Build the Alembic config from the packaged ini, independent of the working directory."""
    config = Config(str(PACKAGE_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    if url:
        # "%" is interpolation syntax in ini files (passwords may contain it).
        config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "heads") -> None:
    """Bring the database at `url` (default `CRM_DATABASE_URL`) to the latest schema.

    Args:
        url: database URL; None means `crm_store.db.database_url()`.
        revision: target revision, `heads` by default.
    """
    config = alembic_config(url)
    with get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(url: str | None = None) -> str | None:
    """Return the revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
