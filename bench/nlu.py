"""NLU benchmark: the bot's own pipeline on BANKING77 / CLINC150, and `/model/parse` latency.

Accuracy runs go through `crm nlu evaluate` (the same `bot/config.yml` components, trained in
`.venv-rasa`), so the figures are the product's, not a notebook's. Without `--test`, BANKING77
is scored by stratified cross-validation on its train split (folds of a fixed 5-fold split,
seed 0) and CLINC150 on its validation split; with `--test` (the official test file, kept
outside the repo) the whole train split is used. `parse` starts a Rasa server with the bot's
model on loopback and times warm, sequential `/model/parse` requests.

    .venv/bin/python bench/nlu.py banking77 [--folds 2] [--test TEST.csv]
    .venv/bin/python bench/nlu.py clinc150 [--test TEST.csv]
    .venv/bin/python bench/nlu.py parse [--requests 300]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

# Run as a script, this folder comes first on sys.path and bench/retrieval.py would shadow the
# `retrieval` package that crm_cli.rasa_model imports; the repository root must win.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm_cli import rasa_model, stack  # noqa: E402

DATASETS = Path("/work/shared/datasets")
REPO = Path(__file__).resolve().parent.parent


def _evaluate(args: list[str]) -> dict:
    argv = [sys.executable, "-m", "crm_cli.main", "nlu", "evaluate", *args]
    print("$ crm nlu evaluate " + " ".join(args), file=sys.stderr)
    result = subprocess.run(argv, cwd=REPO, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def banking77(folds: int, test: Path | None) -> dict:
    """Accuracy on BANKING77: official test if given, else `folds` CV folds of train."""
    train = DATASETS / "banking77" / "train.csv"
    if test is not None:
        return _evaluate(["--train", str(train), "--test", str(test)])
    from sklearn.model_selection import StratifiedKFold

    with train.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    labels = [r[header.index("category")] for r in rows]
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (tr, te) in enumerate(splitter.split(rows, labels)):
            if k >= folds:
                break
            _write(Path(tmp) / "tr.csv", header, [rows[i] for i in tr])
            _write(Path(tmp) / "te.csv", header, [rows[i] for i in te])
            results.append(_evaluate(["--train", f"{tmp}/tr.csv", "--test", f"{tmp}/te.csv"]))
    keys = ("accuracy", "macro_f1", "train_seconds", "parse_ms_p50", "parse_ms_p95")
    return {
        "folds": results,
        "mean": {k: round(statistics.mean(r[k] for r in results), 4) for k in keys},
    }


def clinc150(test: Path | None) -> dict:
    """In-scope accuracy and oos recall on CLINC150 (threshold from bot/config.yml)."""
    folder = DATASETS / "clinc150"
    args = ["--train", str(folder / "train.csv"), "--test", str(test or folder / "validation.csv")]
    args += ["--validation", str(folder / "validation.csv"), "--label-col", "intent"]
    return _evaluate([*args, "--oos-label", "oos"])


PARSE_TEXTS = [
    "where is my order ORD-100023",
    "show me the account summary for Acme Corp.",
    "what's the weather on mars",
    "log a call with Initech: discussed the renewal",
    "which deals close this quarter",
    "remind me to call Globex tomorrow",
    "I want to talk to a person",
    "do you have a plan for small teams",
]


def parse_latency(requests: int) -> dict:
    """Warm, sequential `/model/parse` latency against a Rasa server with the bot model."""
    model = rasa_model.ensure_model(quiet=True)
    port = stack.free_port()
    with tempfile.TemporaryDirectory() as logs:
        rasa = stack.rasa_server(model, port, "http://127.0.0.1:9", Path(logs))
        stack.start_all([rasa])
        try:
            url = f"http://127.0.0.1:{port}/model/parse"
            timings = []
            with httpx.Client(timeout=30.0) as client:
                for i in range(requests + 20):
                    start = time.perf_counter()
                    client.post(url, json={"text": PARSE_TEXTS[i % len(PARSE_TEXTS)]})
                    if i >= 20:  # the first requests warm caches and sessions
                        timings.append((time.perf_counter() - start) * 1000.0)
        finally:
            rasa.stop()
    ordered = sorted(timings)
    return {
        "requests": len(timings),
        "parse_ms_p50": round(statistics.median(ordered), 2),
        "parse_ms_p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
    }


def main() -> None:
    """Run one benchmark and print its JSON on the last stdout line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=["banking77", "clinc150", "parse"])
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--test", type=Path)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    if args.which == "banking77":
        result = banking77(args.folds, args.test)
    elif args.which == "clinc150":
        result = clinc150(args.test)
    else:
        result = parse_latency(args.requests)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
