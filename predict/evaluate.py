"""Evaluation of the churn model against the plain logistic baseline, in one run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from predict import baseline, telco
from predict.churn import ChurnModel
from predict.errors import InputDataError
from predict.metrics import binary_metrics

Step = Callable[[str], None]


def _noop(_: str) -> None:
    return None


def evaluate_churn_frames(train_rows, test_rows, step: Step = _noop) -> dict[str, Any]:
    """Fit on cleaned train rows, score test rows; same for the baseline.

    Returns:
        `roc_auc, pr_auc, brier, log_loss, n_train, n_test` for the churn model and the same
        figures under `baseline` for a plain logistic regression fitted in the same run.
    """
    step("fit churn model")
    model = ChurnModel().fit(train_rows)
    result: dict[str, Any] = binary_metrics(
        test_rows[telco.TARGET].to_numpy(), model.predict_proba(test_rows)
    )
    step("fit baseline")
    base = binary_metrics(
        test_rows[telco.TARGET].to_numpy(), baseline.fit_predict(train_rows, test_rows)
    )
    sizes = {"n_train": len(train_rows), "n_test": len(test_rows)}
    return {**result, **sizes, "baseline": {**base, **sizes}}


def evaluate_churn(train: str | Path, test: str | Path, step: Step = _noop) -> dict[str, Any]:
    """Train on the first Telco CSV, evaluate on the second (see `evaluate_churn_frames`).

    Raises:
        InputDataError: either file is missing, empty or malformed; the message names the
            file and column.
    """
    step("read training data")
    train_rows = _read(train)
    step("read test data")
    test_rows = _read(test)
    return evaluate_churn_frames(train_rows, test_rows, step)


def _read(path: str | Path):
    """Read and clean one labelled Telco file; errors name the file as well as the column."""
    try:
        return telco.clean(telco.read_csv(path), require_target=True)
    except InputDataError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise InputDataError(f"{path}: {exc}", exc.column) from exc
