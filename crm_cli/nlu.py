"""`crm nlu evaluate`: train the bot's own intent pipeline on a CSV and score a test CSV.

Rasa lives in `.venv-rasa`, so this command writes the data and the intent part of
`bot/config.yml` to a temporary folder and runs `components.nlu_eval` there as a subprocess.
Predictions whose confidence is below the pipeline's `FallbackClassifier` threshold count as
out-of-scope, exactly as the bot would treat them. Progress goes to stderr; the last stdout
line is one JSON object with the metrics.
"""

from __future__ import annotations

import csv
import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from crm_cli.rasa_model import BOT_DIR, RASA_PYTHON, rasa_env

app = typer.Typer(help="Evaluate the bot's NLU pipeline.", no_args_is_help=True)

# Components that do not take part in intent classification.
_NOT_INTENT = ("EntityExtractor", "EntitySynonymMapper", "FallbackClassifier")


@dataclass(frozen=True)
class Examples:
    """Texts and labels read from a CSV."""

    texts: list[str]
    labels: list[str]


def read_examples(path: Path, text_col: str, label_col: str) -> Examples:
    """Read two columns of a CSV; a missing file or column is a clear error.

    Raises:
        typer.BadParameter: the file cannot be read or lacks a column, or has no rows.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in (text_col, label_col) if c not in (reader.fieldnames or [])]
            if missing:
                raise typer.BadParameter(
                    f"{path}: no column {', '.join(missing)} (has {reader.fieldnames})"
                )
            rows = [(r[text_col].strip(), r[label_col].strip()) for r in reader]
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from exc
    rows = [(t, label) for t, label in rows if t and label]
    if not rows:
        raise typer.BadParameter(f"{path}: no rows with both a text and a label")
    return Examples([t for t, _ in rows], [label for _, label in rows])


def intent_pipeline(config_path: Path = BOT_DIR / "config.yml") -> tuple[dict[str, Any], float]:
    """The intent part of the bot's pipeline and its fallback threshold.

    Returns:
        (an NLU-only Rasa config dict, the `FallbackClassifier` threshold or 0.0).
    """
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    pipeline = config.get("pipeline") or []
    threshold = next(
        (float(c.get("threshold", 0.3)) for c in pipeline if c["name"] == "FallbackClassifier"),
        0.0,
    )
    steps = [c for c in pipeline if not any(part in c["name"] for part in _NOT_INTENT)]
    nlu_config = {
        "recipe": config.get("recipe", "default.v1"),
        "language": config.get("language", "en"),
        "assistant_id": "nlu-eval",
        "pipeline": steps,
        "policies": [],
    }
    return nlu_config, threshold


def scores(
    gold: list[str], predicted: list[tuple[str, float]], threshold: float, oos_label: str | None
) -> dict[str, float]:
    """Accuracy, macro F1 and, with an oos label, in-scope accuracy and oos recall.

    With an oos label, a prediction below `threshold` becomes that label (the bot would
    hand it to out-of-scope handling); without one, the top intent is scored as it is.
    """
    if oos_label is None:
        final = [label for label, _ in predicted]
    else:
        final = [label if conf >= threshold else oos_label for label, conf in predicted]
    metrics: dict[str, float] = {
        "accuracy": sum(p == g for p, g in zip(final, gold, strict=True)) / len(gold),
        "macro_f1": _macro_f1(gold, final),
    }
    if oos_label is not None:
        inside = [(p, g) for p, g in zip(final, gold, strict=True) if g != oos_label]
        outside = [p for p, g in zip(final, gold, strict=True) if g == oos_label]
        metrics["in_scope_accuracy"] = sum(p == g for p, g in inside) / max(1, len(inside))
        metrics["oos_recall"] = sum(p == oos_label for p in outside) / max(1, len(outside))
    return metrics


def threshold_curve(
    gold: list[str], predicted: list[tuple[str, float]], oos_label: str
) -> list[dict[str, float]]:
    """In-scope accuracy and oos recall at each threshold (0.05 steps): the trade-off to
    choose the config's threshold from, on validation rows."""
    curve = []
    for t in (round(0.05 * i, 2) for i in range(1, 20)):
        m = scores(gold, predicted, t, oos_label)
        curve.append(
            {
                "threshold": t,
                "in_scope_accuracy": round(m["in_scope_accuracy"], 4),
                "oos_recall": round(m["oos_recall"], 4),
            }
        )
    return curve


def best_threshold(gold: list[str], predicted: list[tuple[str, float]], oos_label: str) -> float:
    """The threshold (0.05 steps) maximising in-scope accuracy + oos recall on these rows."""
    grid = [round(0.05 * i, 2) for i in range(1, 20)]

    def balanced(t: float) -> float:
        m = scores(gold, predicted, t, oos_label)
        return m["in_scope_accuracy"] + m["oos_recall"]

    return max(grid, key=balanced)


def _macro_f1(gold: list[str], predicted: list[str]) -> float:
    f1s = []
    for label in sorted(set(gold)):
        tp = sum(p == label and g == label for p, g in zip(predicted, gold, strict=True))
        fp = sum(p == label and g != label for p, g in zip(predicted, gold, strict=True))
        fn = sum(p != label and g == label for p, g in zip(predicted, gold, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_rasa(train: Examples, texts: list[str], work: Path) -> dict[str, Any]:
    """Train the intent pipeline on `train` in `.venv-rasa` and parse `texts`."""
    from retrieval.onnx_export import export_onnx
    from retrieval.onnx_layers import ensure_layer_graph

    onnx_dir = export_onnx()
    ensure_layer_graph(onnx_dir)
    config, _ = intent_pipeline()
    (work / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    examples = [
        {"text": t, "intent": y, "entities": []}
        for t, y in zip(train.texts, train.labels, strict=True)
    ]
    data = {"rasa_nlu_data": {"common_examples": examples}}
    (work / "train.json").write_text(json.dumps(data), encoding="utf-8")
    spec = {
        "config": str(work / "config.yml"),
        "train": str(work / "train.json"),
        "texts": texts,
        "out": str(work / "models"),
    }
    (work / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    argv = [str(RASA_PYTHON), "-m", "components.nlu_eval", str(work / "spec.json")]
    result = subprocess.run(
        argv,
        cwd=BOT_DIR,
        env=rasa_env({"CRM_NLU_ONNX_DIR": str(onnx_dir), "OMP_NUM_THREADS": "2"}),
        stdout=subprocess.PIPE,
        stderr=None,  # Rasa's progress goes straight to our stderr
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"Rasa NLU training/parsing failed (exit {result.returncode})")
    return json.loads(result.stdout.strip().splitlines()[-1])


@app.command("evaluate")
def evaluate(
    train: Annotated[Path, typer.Option(help="Training CSV.")],
    test: Annotated[Path, typer.Option(help="Test CSV.")],
    validation: Annotated[
        Path | None,
        typer.Option(help="Validation CSV: also parsed, to report the best threshold on it."),
    ] = None,
    text_col: Annotated[str, typer.Option(help="Text column.")] = "text",
    label_col: Annotated[str, typer.Option(help="Label column.")] = "category",
    oos_label: Annotated[
        str | None, typer.Option(help="Out-of-scope label; low-confidence answers count as it.")
    ] = None,
) -> None:
    """Train the bot's intent pipeline on TRAIN, score TEST, print metrics as JSON."""
    try:
        train_set = read_examples(train, text_col, label_col)
        test_set = read_examples(test, text_col, label_col)
        val_set = read_examples(validation, text_col, label_col) if validation else Examples([], [])
    except typer.BadParameter as exc:  # plain text: a framed message would wrap long paths
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from exc
    _, threshold = intent_pipeline()
    typer.echo(
        f"training on {len(train_set.texts)} examples, testing {len(test_set.texts)}; "
        f"fallback threshold {threshold}",
        err=True,
    )
    with tempfile.TemporaryDirectory(prefix="crm-nlu-") as tmp:
        try:
            raw = run_rasa(train_set, test_set.texts + val_set.texts, Path(tmp))
        except RuntimeError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from exc
    predicted = [(str(label), float(conf)) for label, conf in raw["predictions"]]
    n_test = len(test_set.texts)
    metrics = scores(test_set.labels, predicted[:n_test], threshold, oos_label)
    if val_set.texts and oos_label is not None:
        metrics["validation_best_threshold"] = best_threshold(
            val_set.labels, predicted[n_test:], oos_label
        )
        metrics["validation_curve"] = threshold_curve(val_set.labels, predicted[n_test:], oos_label)
    timings = raw["parse_ms"]
    metrics.update(
        threshold=threshold,
        train_examples=len(train_set.texts),
        test_examples=len(test_set.texts),
        train_seconds=round(raw["train_seconds"], 1),
        parse_ms_p50=round(statistics.median(timings), 2),
        parse_ms_p95=round(_percentile(timings, 0.95), 2),
    )
    rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}
    sys.stdout.write(json.dumps(rounded) + "\n")
