"""`crm kb ...`: index knowledge sources and search them."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="Knowledge base: index sources, search, answer.")


def _err(message: str) -> None:
    typer.echo(message, err=True)


@app.command("index")
def index_cmd(
    paths: list[Path] = typer.Argument(None, help="Files or folders (md, html, txt, csv)."),
    crm: bool = typer.Option(False, "--crm", help="Also index the CRM's knowledge articles."),
) -> None:
    """Index new and changed sources; sources gone from the given folders are removed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
    from sqlalchemy.exc import SQLAlchemyError

    from retrieval.config import RetrievalSettings
    from retrieval.sync import index_paths

    if not paths and not crm:
        _err("error: give at least one PATH or --crm")
        raise typer.Exit(code=2)
    settings = RetrievalSettings()
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=_console()) as bar:
            task = bar.add_task("embedding chunks", total=None)
            report, size = index_paths(
                list(paths or []),
                settings=settings,
                include_crm=crm,
                progress=lambda n: bar.advance(task, n),
                on_total=lambda n: bar.update(task, total=n),
            )
    except SQLAlchemyError as exc:
        _err(f"error: the CRM store is not ready ({type(exc).__name__}); run `crm db upgrade`")
        raise typer.Exit(code=2) from None
    for problem in report.errors:
        _err(f"skipped {problem}")
    for note in report.duplicates:
        _err(f"duplicate: {note}")
    typer.echo(
        f"sources: {report.added_sources} added, {report.replaced_sources} replaced, "
        f"{report.removed_sources} removed, {report.unchanged_sources} unchanged; "
        f"chunks: {report.chunks_indexed} indexed, {report.chunks_removed} removed; "
        f"{len(report.errors)} problem(s); index: {size} chunks"
    )


def _console():  # noqa: ANN202 - rich type imported lazily
    from rich.console import Console

    return Console(file=sys.stderr)


@app.command()
def search(
    query: str = typer.Argument(..., help="The question."),
    audience: str = typer.Option("public", help="public (customers) or internal (staff)."),
    k: int = typer.Option(5, "-k", "--k", min=1, max=50, help="How many sources to list."),
) -> None:
    """Search the knowledge base and print the cited answer and sources."""
    from sqlalchemy.exc import SQLAlchemyError

    from retrieval.service import QueryError, get_service
    from retrieval.types import Audience

    if audience not in {a.value for a in Audience}:
        _err("error: --audience must be public or internal")
        raise typer.Exit(code=2)
    try:
        service = get_service()
    except SQLAlchemyError as exc:
        _err(f"error: the CRM store is not ready ({type(exc).__name__}); run `crm db upgrade`")
        raise typer.Exit(code=2) from None
    try:
        hits = service.search(query, k=k, audience=audience)
    except QueryError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(code=2) from None
    result = service.answer(query, audience=audience)
    status = "abstained" if result.abstained else "answered"
    typer.echo(f"{status} (confidence {result.confidence:.2f})")
    typer.echo(result.text)
    for rank, hit in enumerate(hits, 1):
        where = f" <{hit.url}>" if hit.url else ""
        typer.echo(f"{rank}. [{hit.score:.3f}] {hit.title}{where} (chunk {hit.chunk_id})")
