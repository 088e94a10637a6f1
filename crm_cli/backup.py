"""`crm backup PATH` / `crm restore PATH`: snapshots of the embedded SQLite store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crm_cli.db import UrlOption, cli_errors, fail


def backup(
    path: Annotated[Path, typer.Argument(help="Where to write the snapshot (one SQLite file).")],
    database_url: UrlOption = None,
) -> None:
    """Write a consistent snapshot of the SQLite store, safe while the processes run."""
    from crm_store.backup import backup as take

    with cli_errors():
        info = take(path, database_url)
    total = sum(info.rows.values())
    typer.echo(f"backed up {total} rows in {len(info.rows)} tables (revision {info.revision})")
    typer.echo(str(info.path))


def restore(
    path: Annotated[Path, typer.Argument(help="A snapshot written by `crm backup`.")],
    database_url: UrlOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Replace the store without asking.")] = False,
) -> None:
    """Replace the SQLite store's contents with a snapshot (checked before anything changes)."""
    from crm_store.backup import inspect_snapshot, sqlite_path
    from crm_store.backup import restore as put_back

    with cli_errors():
        target = sqlite_path(database_url)
        inspect_snapshot(path.expanduser().resolve())
        if not yes and not typer.confirm(f"Replace everything in {target} with {path}?"):
            fail("restore cancelled; nothing changed")
        info = put_back(path, database_url)
    typer.echo(f"restored {sum(info.rows.values())} rows (revision {info.revision}) into {target}")
