"""`crm retrieval ...`: evaluate and calibrate the knowledge retrieval service."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="Evaluate and calibrate knowledge retrieval.")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _fail(exc: Exception) -> None:
    _log(f"error: {exc}")
    raise typer.Exit(code=2)


@app.command()
def evaluate(
    corpus: Path = typer.Option(..., help="FAQ CSV: one document per row (question + answer)."),
    queries: Path = typer.Option(..., help="Queries CSV with the query and group columns."),
    negatives: Path | None = typer.Option(None, help="Out-of-domain questions CSV (`text`)."),
    paraphrases: Path | None = typer.Option(
        None, help="Known phrasings CSV (query + group columns) indexed as extra questions."
    ),
    question_col: str = typer.Option("question"),
    answer_col: str = typer.Option("answer"),
    group_col: str = typer.Option("thread_id"),
    query_col: str = typer.Option("query"),
    calibration: Path | None = typer.Option(
        None, help="Abstention model JSON (default: retrieval/calibration.json)."
    ),
) -> None:
    """Index the corpus, run every query; the last stdout line is the metrics JSON."""
    from retrieval.calibration import DEFAULT_PATH, Calibrator
    from retrieval.csv_input import InputError
    from retrieval.evaluate import Columns
    from retrieval.evaluate import evaluate as run

    cols = Columns(question_col, answer_col, group_col, query_col)
    try:
        cal = Calibrator.load(calibration or DEFAULT_PATH)
        result = run(corpus, queries, negatives, paraphrases, cols, calibrator=cal, log=_log)
    except (InputError, FileNotFoundError, ValueError) as exc:
        _fail(exc)
    print(json.dumps(result))


@app.command()
def calibrate(
    corpus: Path = typer.Option(..., help="FAQ CSV (same as evaluate)."),
    queries: Path = typer.Option(..., help="TRAINING queries only."),
    negatives: Path = typer.Option(..., help="Out-of-domain TRAINING questions (`text`)."),
    out: Path | None = typer.Option(None, help="Where to write (default: the shipped file)."),
    group_col: str = typer.Option("thread_id"),
    query_col: str = typer.Option("query"),
) -> None:
    """Fit the abstention model and threshold on training data and write the JSON."""
    from retrieval.calibration import DEFAULT_PATH
    from retrieval.csv_input import InputError
    from retrieval.evaluate import Columns
    from retrieval.evaluate import calibrate as run

    try:
        cal = run(corpus, queries, negatives, Columns(group=group_col, query=query_col), log=_log)
    except (InputError, FileNotFoundError, ValueError) as exc:
        _fail(exc)
    cal.save(out or DEFAULT_PATH)
    print(
        json.dumps({"threshold": cal.threshold, "coef": cal.coef, "out": str(out or DEFAULT_PATH)})
    )


@app.command("split")
def split(
    queries: Path = typer.Option(..., help="Training queries CSV to split."),
    out_dir: Path = typer.Option(Path("var/retrieval/splits")),
    clinc_dir: Path | None = typer.Option(None, help="CLINC150 folder: also write oos CSVs."),
) -> None:
    """Write the held-out splits (by position within thread, by thread) used for honest figures."""
    from retrieval.csv_input import InputError
    from retrieval.splits import write_oos, write_splits

    try:
        paths = write_splits(queries, out_dir)
        if clinc_dir:
            paths.append(write_oos(clinc_dir / "train.csv", out_dir / "oos_train.csv", "oos_train"))
            paths.append(
                write_oos(clinc_dir / "validation.csv", out_dir / "oos_val.csv", "oos_val")
            )
    except InputError as exc:
        _fail(exc)
    for path in paths:
        print(path)
