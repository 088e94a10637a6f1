"""`crm nlu evaluate`: metrics, input errors, and one small real training run."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import yaml

from crm_cli.nlu import best_threshold, intent_pipeline, read_examples, scores, threshold_curve

REPO = Path(__file__).resolve().parents[2]


def test_scores_treat_low_confidence_as_out_of_scope() -> None:
    gold = ["a", "b", "oos", "oos"]
    predicted = [("a", 0.9), ("b", 0.2), ("a", 0.1), ("b", 0.8)]
    metrics = scores(gold, predicted, threshold=0.5, oos_label="oos")
    assert metrics["accuracy"] == pytest.approx(0.5)  # a right, b below -> oos, oos right, b
    assert metrics["in_scope_accuracy"] == pytest.approx(0.5)
    assert metrics["oos_recall"] == pytest.approx(0.5)
    no_oos = scores(["a", "b"], [("a", 0.9), ("b", 0.2)], threshold=0.5, oos_label=None)
    assert no_oos["accuracy"] == pytest.approx(1.0) and "oos_recall" not in no_oos


def test_best_threshold_separates_confident_from_unsure() -> None:
    gold = ["a", "a", "oos", "oos"]
    predicted = [("a", 0.9), ("a", 0.7), ("a", 0.3), ("a", 0.4)]
    assert 0.4 < best_threshold(gold, predicted, "oos") <= 0.7


def test_threshold_curve_trades_in_scope_accuracy_for_oos_recall() -> None:
    gold = ["a", "a", "b", "oos", "oos"]
    predicted = [("a", 0.9), ("a", 0.4), ("b", 0.7), ("a", 0.5), ("oos", 0.9)]
    curve = {round(p["threshold"], 2): p for p in threshold_curve(gold, predicted, "oos")}
    assert len(curve) == 19
    assert curve[0.3] == {"threshold": 0.3, "in_scope_accuracy": 1.0, "oos_recall": 0.5}
    assert curve[0.45]["in_scope_accuracy"] == round(2 / 3, 4) and curve[0.45]["oos_recall"] == 0.5
    assert curve[0.55]["in_scope_accuracy"] == round(2 / 3, 4) and curve[0.55]["oos_recall"] == 1.0


def test_read_examples_names_the_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("text,intent\nhello,greet\n")
    with pytest.raises(typer.BadParameter, match="no column category"):
        read_examples(path, "text", "category")
    with pytest.raises(typer.BadParameter, match="cannot read"):
        read_examples(tmp_path / "missing.csv", "text", "intent")
    assert read_examples(path, "text", "intent").labels == ["greet"]


def test_intent_pipeline_is_the_bots_without_entities() -> None:
    config, threshold = intent_pipeline()
    names = [step["name"] for step in config["pipeline"]]
    assert "components.linear_intent_classifier.LinearIntentClassifier" in names
    assert "components.sentence_featurizer.MiniLMFeaturizer" in names
    assert not any("Entity" in name or name == "FallbackClassifier" for name in names)
    assert 0.0 < threshold < 1.0


def _bot_examples() -> list[tuple[str, str]]:
    """The bot's own intent examples, entity markup removed."""
    rows = []
    for path in sorted((REPO / "bot" / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text()).get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                text = re.sub(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})", r"\1", line.strip()[2:])
                if text.strip():
                    rows.append((text.strip(), block["intent"]))
    return rows


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "intent"])
        writer.writerows(rows)


@pytest.mark.slow
def test_evaluate_trains_and_scores_the_bot_data(tmp_path: Path) -> None:
    rows = _bot_examples()
    assert len(rows) > 300
    train = [r for i, r in enumerate(rows) if i % 5]
    test = [r for i, r in enumerate(rows) if not i % 5]
    _write(tmp_path / "train.csv", train)
    _write(tmp_path / "test.csv", test)
    argv = [
        sys.executable, "-m", "crm_cli.main", "nlu", "evaluate",
        "--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"),
        "--label-col", "intent", "--oos-label", "out_of_scope",
    ]  # fmt: skip
    result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    assert metrics["train_examples"] == len(train) and metrics["test_examples"] == len(test)
    assert metrics["accuracy"] >= 0.85, metrics
    assert metrics["in_scope_accuracy"] >= 0.85 and metrics["oos_recall"] >= 0.5, metrics
    assert 0 < metrics["parse_ms_p50"] <= metrics["parse_ms_p95"] < 200
    assert "training on" in result.stderr  # progress goes to stderr, not stdout


def test_evaluate_rejects_a_bad_column(tmp_path: Path) -> None:
    _write(tmp_path / "t.csv", [("hello", "greet")])
    argv = [
        sys.executable, "-m", "crm_cli.main", "nlu", "evaluate",
        "--train", str(tmp_path / "t.csv"), "--test", str(tmp_path / "t.csv"),
    ]  # fmt: skip
    result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "no column category" in result.stderr
    assert "Traceback" not in result.stderr
