"""`crm import ...`: load the public data sets into the CRM with a progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from crm_cli.db import UrlOption, cli_errors
from crm_store import migrate
from crm_store.db import session_scope
from crm_store.importers import ImportReport, ProgressFn
from crm_store.importers.common import check_file

app = typer.Typer(no_args_is_help=True, help="Import public data sets into the CRM.")
err = Console(stderr=True)

PathArg = Annotated[Path, typer.Argument(help="The CSV file (.csv or .csv.gz).")]
LimitOption = Annotated[
    int | None, typer.Option("--limit", min=1, help="Read at most this many data rows.")
]


@contextmanager
def _progress_bar() -> Iterator[ProgressFn]:
    """A Rich progress bar on stderr, one line per import stage."""
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err, transient=False,
    ) as bar:  # fmt: skip
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _run(run: Callable[..., ImportReport], path: Path, limit: int | None, url: str | None) -> None:
    with cli_errors():
        check_file(path)  # before the bar, so a typo gives one clean line
        migrate.upgrade(url)
        with _progress_bar() as progress, session_scope(url) as session:
            report = run(session, path, limit=limit, progress=progress)
    for line in report.lines():
        typer.echo(line)


@app.command("telco")
def telco(path: PathArg, limit: LimitOption = None, database_url: UrlOption = None) -> None:
    """Import the IBM Telco churn CSV (accounts, contacts, subscriptions)."""
    from crm_store.importers.telco import import_telco

    _run(import_telco, path, limit, database_url)


@app.command("retail")
def retail(path: PathArg, limit: LimitOption = None, database_url: UrlOption = None) -> None:
    """Import the UCI Online Retail CSV (products, accounts, orders with lines)."""
    from crm_store.importers.retail import import_retail

    _run(import_retail, path, limit, database_url)
