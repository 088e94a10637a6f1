"""`crm retention run`: delete transcripts past the retention period (also run by the worker)."""

from __future__ import annotations

from typing import Annotated

import typer

from crm_cli.db import UrlOption, cli_errors, fail

app = typer.Typer(no_args_is_help=True, help="Transcript retention.")


@app.command("run")
def run(
    days: Annotated[
        int | None,
        typer.Option(min=1, help="Keep this many days (default CRM_TRANSCRIPT_RETENTION_DAYS)."),
    ] = None,
    database_url: UrlOption = None,
) -> None:
    """Delete the messages of conversations quiet for longer than the retention period."""
    from crm_store.db import session_scope
    from crm_store.retention import purge_transcripts, retention_days

    with cli_errors():
        days = days or retention_days()
        if days is None:
            fail("no retention period: pass --days N or set CRM_TRANSCRIPT_RETENTION_DAYS")
        with session_scope(database_url) as session:
            result = purge_transcripts(session, days)
    typer.echo(
        f"deleted {result.messages} messages from {result.conversations} conversations "
        f"quiet since before {result.cutoff:%Y-%m-%d %H:%M} UTC"
    )
