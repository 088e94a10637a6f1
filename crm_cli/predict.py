"""`crm predict ...`: train, evaluate, score and explain the prediction models.

Thin commands: parse, call one `predict` function, print. Progress goes to stderr so that
stdout stays machine-readable (the evaluation's last stdout line is one JSON object).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from predict import MODEL_NAMES
from predict.errors import PredictError

# The predict modules pull in pandas, scikit-learn and skops: import them inside commands so
# every other `crm` command starts fast.

app = typer.Typer(no_args_is_help=True, help="Prediction models: train, evaluate, score.")
err = Console(stderr=True)

DataOption = Annotated[Path | None, typer.Option("--data", help="Input file (CSV or .csv.gz).")]
UrlOption = Annotated[
    str | None, typer.Option("--database-url", help="CRM database (default CRM_DATABASE_URL).")
]


@contextmanager
def _steps(title: str) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr that advances once per named step."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bar:
        task = bar.add_task(title, total=None)

        def step(label: str) -> None:
            bar.update(task, description=f"{title}: {label}", advance=1)

        yield step
        bar.update(task, description=f"{title}: done", total=1, completed=1)


def _fail(exc: Exception) -> None:
    # The message is data, not markup: "[...]" in it must print as is.
    err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True, highlight=False)
    raise typer.Exit(code=2)


@app.command("train")
def train(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(MODEL_NAMES)}.")],
    data: DataOption = None,
    from_store: Annotated[
        bool,
        typer.Option(
            "--from-store", help="Train on the CRM's own history (subscriptions or orders)."
        ),
    ] = False,
    database_url: UrlOption = None,
) -> None:
    """Train, validate and register a model under var/models/."""
    from predict import training

    try:
        with _steps(f"train {name}") as step:
            rows = _store_rows(name, database_url) if from_store else None
            manifest = training.train(name, data=data, rows=rows, step=step)
    except (PredictError, ValueError) as exc:
        _fail(exc)
    typer.echo(json.dumps({"version": manifest.version, "metrics": manifest.metrics}))


def _store_rows(name: str, database_url: str | None):
    from crm_store import db
    from predict import store

    with db.session_scope(database_url) as session:
        if name != "churn":
            lines = store.order_lines_frame(session)
            if lines.empty:
                raise PredictError("the store has no orders to learn from")
            return lines
        frame = store.subscription_frame(session)
    frame = frame[frame["Churn"].notna()]
    if frame.empty:
        raise PredictError("the store has no subscriptions with a known churn outcome")
    return frame


@app.command("evaluate")
def evaluate_cmd(
    name: Annotated[str, typer.Argument(help="churn or propensity.")],
    train_path: Annotated[Path | None, typer.Option("--train", help="Telco CSV to fit on.")] = None,
    test_path: Annotated[Path | None, typer.Option("--test", help="Telco CSV to score.")] = None,
    data: DataOption = None,
    cutoff: Annotated[
        str, typer.Option("--cutoff", help="Propensity test cut-off date.")
    ] = "2011-09-01",
) -> None:
    """Fit and test a model and its baseline in one run; last stdout line is JSON."""
    from predict import evaluate, propensity, retail

    try:
        with _steps(f"evaluate {name}") as step:
            if name == "churn":
                if train_path is None or test_path is None:
                    raise PredictError("churn evaluation needs --train and --test")
                report = evaluate.evaluate_churn(train_path, test_path, step)
            elif name == "propensity":
                step("read order history")
                lines = retail.read_csv(data or retail.DEFAULT_PATH)
                step("fit model and baseline")
                report = propensity.evaluate(lines, cutoff)[1]
            else:
                raise PredictError(f"no evaluation for {name!r}; use churn or propensity")
    except (PredictError, ValueError) as exc:
        _fail(exc)
    typer.echo(json.dumps(report))


@app.command("score")
def score(
    name: Annotated[str, typer.Argument(help="churn, propensity or segments.")],
    database_url: UrlOption = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Churn: scoring processes (cores to use).")
    ] = 1,
) -> None:
    """Score every account and write PredictionScore rows with the model version."""
    from crm_store import db
    from predict import service

    if name not in ("churn", "propensity", "segments"):
        _fail(PredictError(f"batch scoring supports churn, propensity, segments, not {name!r}"))
    try:
        with Progress(console=err) as bar, db.session_scope(database_url) as session:
            task = bar.add_task(f"score {name}", total=None)
            if name == "churn":
                report = service.batch_score_churn(
                    session,
                    workers=workers,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
            elif name == "propensity":
                report = service.batch_score_propensity(session)
            else:
                report = service.batch_score_segments(session)
            bar.update(task, completed=1, total=1)
    except PredictError as exc:
        _fail(exc)
    typer.echo(json.dumps(asdict(report)))


@app.command("explain")
def explain(
    account_id: Annotated[int, typer.Argument(help="CRM account id.")],
    database_url: UrlOption = None,
) -> None:
    """Churn risk of one account with the reasons raising and lowering it."""
    from crm_store import db
    from predict import service

    try:
        with db.session_scope(database_url) as session:
            result = service.score_account_churn(session, account_id)
    except PredictError as exc:
        _fail(exc)
    if result is None:
        _fail(PredictError(f"account {account_id} not found"))
    typer.echo(f"churn risk {result.probability:.0%} ({result.risk}), {result.model_version}")
    for label, reasons in (("raising", result.raising()), ("lowering", result.lowering())):
        typer.echo(f"  {label}: " + "; ".join(f"{r.text} ({r.effect:+.2f})" for r in reasons))


@app.command("models")
def models(name: Annotated[str | None, typer.Argument(help="Model name.")] = None) -> None:
    """List registered model versions with their headline metrics."""
    from predict import registry

    for model_name in [name] if name else MODEL_NAMES:
        for manifest in registry.list_versions(model_name):
            typer.echo(f"{manifest.version}\t{manifest.created_at}\t{json.dumps(manifest.metrics)}")


@app.command("sentiment")
def sentiment_cmd(text: Annotated[str, typer.Argument(help="A customer message.")]) -> None:
    """Sentiment of one message (offline lexicon)."""
    from predict import service

    typer.echo(json.dumps(asdict(service.message_sentiment(text))))
