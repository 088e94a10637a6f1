"""`crm predict` through Typer's runner: the evaluation contract and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from crm_cli.main import app

runner = CliRunner()
KEYS = {"roc_auc", "pr_auc", "brier", "log_loss", "n_train", "n_test"}


def _files(tmp_path: Path, raw: pd.DataFrame) -> tuple[Path, Path]:
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    raw.iloc[:450].to_csv(train, index=False)
    raw.iloc[450:].to_csv(test, index=False)
    return train, test


def test_evaluate_churn_last_line_is_json(tmp_path: Path, telco_raw: pd.DataFrame) -> None:
    train, test = _files(tmp_path, telco_raw)
    result = runner.invoke(
        app, ["predict", "evaluate", "churn", "--train", str(train), "--test", str(test)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report) >= KEYS and set(report["baseline"]) >= KEYS
    assert (report["n_train"], report["n_test"]) == (450, 150)
    assert 0 <= report["brier"] <= 1 and 0 <= report["roc_auc"] <= 1


def test_evaluate_names_the_missing_column(tmp_path: Path, telco_raw: pd.DataFrame) -> None:
    train, test = _files(tmp_path, telco_raw)
    pd.read_csv(test, dtype=str).drop(columns=["Contract"]).to_csv(test, index=False)
    result = runner.invoke(
        app, ["predict", "evaluate", "churn", "--train", str(train), "--test", str(test)]
    )
    assert result.exit_code == 2
    assert "Contract" in result.stderr and "test.csv" in result.stderr
    assert "Traceback" not in result.output


def test_evaluate_scores_unknown_categories(tmp_path: Path, telco_raw: pd.DataFrame) -> None:
    train, test = _files(tmp_path, telco_raw)
    frame = pd.read_csv(test, dtype=str, keep_default_na=False)
    frame.loc[frame.index[:5], "PaymentMethod"] = "Crypto"
    frame.to_csv(test, index=False)
    result = runner.invoke(
        app, ["predict", "evaluate", "churn", "--train", str(train), "--test", str(test)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["n_test"] == 150


def test_evaluate_empty_file(tmp_path: Path, telco_raw: pd.DataFrame) -> None:
    train, test = _files(tmp_path, telco_raw)
    test.write_text("")
    result = runner.invoke(
        app, ["predict", "evaluate", "churn", "--train", str(train), "--test", str(test)]
    )
    assert result.exit_code == 2 and "empty" in result.stderr


def test_train_registers_a_version(tmp_path: Path, telco_raw: pd.DataFrame, models_root) -> None:
    data = tmp_path / "telco.csv"
    telco_raw.to_csv(data, index=False)
    result = runner.invoke(app, ["predict", "train", "churn", "--data", str(data)])
    assert result.exit_code == 0, result.output
    version = json.loads(result.stdout.strip().splitlines()[-1])["version"]
    folder = models_root / "churn" / version
    assert {p.name for p in folder.iterdir()} == {"model.skops", "manifest.json", "card.md"}
    listed = runner.invoke(app, ["predict", "models", "churn"])
    assert version in listed.stdout


def test_unknown_model_name(models_root) -> None:
    result = runner.invoke(app, ["predict", "train", "horoscope"])
    assert result.exit_code == 2 and "horoscope" in result.stderr
