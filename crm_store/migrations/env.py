"""Alembic environment: URL from `database_url()` or the config, metadata from the models."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from crm_store.db import database_url, get_engine
from crm_store.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or database_url()


def _configure(**kwargs: object) -> None:
    url = str(kwargs.get("url") or _url())
    context.configure(
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode recreates the table instead.
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout without a database (`alembic upgrade --sql`)."""
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_with(connection: Connection) -> None:
    _configure(connection=connection, url=str(connection.engine.url))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against a live connection (passed in by `crm_store.migrate`, or our engine)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    with get_engine(_url()).connect() as connection:
        _run_with(connection)
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
