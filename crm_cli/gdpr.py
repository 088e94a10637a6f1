"""`crm gdpr export|delete EMAIL`: a person's right of access and right to erasure."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Annotated

import typer

from crm_cli.db import UrlOption, cli_errors, fail
from crm_store.db import session_scope
from crm_store.errors import InvalidInputError
from crm_store.gdpr import dumps, export_counts, export_person, normalise_email
from crm_store.rasa_trackers import tracker_url

app = typer.Typer(no_args_is_help=True, help="GDPR: export or erase what is held about a person.")

EmailArg = Annotated[str, typer.Argument(help="The person's email address.")]
TrackerOption = Annotated[
    str | None,
    typer.Option(
        "--rasa-tracker-url",
        help="Rasa's SQL tracker store (default: CRM_RASA_TRACKER_URL; unset: not touched).",
    ),
]


def _checked(email: str) -> str:
    try:
        return normalise_email(email)
    except InvalidInputError as exc:
        fail(str(exc))


@app.command("export")
def export(
    email: EmailArg,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="JSON file to write (default: gdpr-export-<hash>.json)."),
    ] = None,
    database_url: UrlOption = None,
    rasa_tracker_url: TrackerOption = None,
) -> None:
    """Write everything held about the person as JSON; print the path and the counts."""
    email = _checked(email)
    # The default name holds a hash, not the address: file names end up in logs and listings.
    path = out or Path(f"gdpr-export-{hashlib.sha256(email.encode()).hexdigest()[:12]}.json")
    with cli_errors(), session_scope(database_url) as session:
        data = export_person(
            session=session, email=email, tracker_url=rasa_tracker_url or tracker_url()
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Personal data: readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(dumps(data) + "\n")
    counts = export_counts(data)
    typer.echo(f"wrote {path}")
    typer.echo(", ".join(f"{kind}: {n}" for kind, n in counts.items()))


@app.command("delete")
def delete(
    email: EmailArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    database_url: UrlOption = None,
    rasa_tracker_url: TrackerOption = None,
) -> None:
    """Erase or anonymise the person everywhere (store, transcripts, knowledge index)."""
    from retrieval.privacy import forget_person

    email = _checked(email)
    if not yes:
        typer.confirm(f"Erase everything held about {email}? This cannot be undone", abort=True)
    tracker = rasa_tracker_url or tracker_url()
    with cli_errors():
        report, knowledge = forget_person(email, database_url, tracker_url=tracker)
    if not tracker:
        typer.echo("Rasa tracker store: not configured (CRM_RASA_TRACKER_URL), not touched")
    if report.nothing_found and not knowledge.chunks_removed:
        typer.echo(f"nothing held about {email}; nothing changed")
        return
    for kind, count in sorted(report.changed.items()):
        typer.echo(f"{kind}: {count}")
    if knowledge.chunks_removed or knowledge.chunks_added:
        typer.echo(
            f"knowledge index: {knowledge.chunks_removed} chunk(s) removed, "
            f"{knowledge.articles_reindexed} article(s) re-indexed"
        )
    for source in knowledge.files_to_edit:
        typer.echo(f"warning: {source} quotes the email; edit it before the next `crm kb index`")
