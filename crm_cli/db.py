"""`crm db ...`: schema migrations, plus the error handling every store command shares."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from crm_store.errors import CrmError

app = typer.Typer(no_args_is_help=True, help="Database schema (Alembic migrations).")

UrlOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Database URL (default: CRM_DATABASE_URL or var/)."),
]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear error line on stderr and exit non-zero (no traceback)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn the store's expected errors into one-line messages."""
    try:
        yield
    except CrmError as exc:
        fail(str(exc))
    except (OperationalError, ProgrammingError) as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "no such table" in detail or "does not exist" in detail:
            detail += " (is the database migrated? run `crm db upgrade`)"
        fail(f"database error: {detail}")
    except SQLAlchemyError as exc:
        fail(f"database error: {type(exc).__name__}: {str(exc).splitlines()[0]}")


@app.command("upgrade")
def upgrade(database_url: UrlOption = None) -> None:
    """Apply every pending migration."""
    from crm_store import migrate

    with cli_errors():
        migrate.upgrade(database_url)
        typer.echo(f"database at revision {migrate.current_revision(database_url)}")


@app.command("current")
def current(database_url: UrlOption = None) -> None:
    """Print the database's current revision."""
    from crm_store import migrate

    with cli_errors():
        typer.echo(migrate.current_revision(database_url) or "none (not migrated)")
