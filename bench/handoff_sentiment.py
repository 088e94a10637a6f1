"""How often would the sentiment trigger hand ordinary requests to a person?

Scores every customer message of BANKING77 (train) and CLINC150 (train + validation) with
the same VADER function the API uses, and a short list of clearly upset messages, and prints
the share at or below each candidate threshold. Ordinary requests (complaints about lost
cards and failed transfers included) should stay with the bot; upset ones should not.

    .venv/bin/python bench/handoff_sentiment.py [--datasets /work/shared/datasets]

Prints one JSON object (last line of stdout).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

# bench/predict.py is named like the package; keep this folder off the import path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from predict.sentiment import analyze  # noqa: E402

DATASETS = Path("/work/shared/datasets")

THRESHOLDS = (-0.3, -0.4, -0.5, -0.6, -0.7)
# Written for this check (not a benchmark set): the kind of message a person should take.
UPSET = (
    "this is useless, I want to speak to someone",
    "I'm furious, my order still hasn't arrived",
    "worst service ever",
    "you people are incompetent",
    "I am so angry and frustrated with this",
    "this is ridiculous, nobody helps me",
    "terrible experience, I hate this bot",
    "I've been waiting for weeks, this is unacceptable and awful",
    "stop wasting my time, stupid bot",
    "your product broke after one day, absolutely horrible",
    "I'm really upset, you charged me twice",
    "this is a disaster",
    "are you kidding me? this is a joke",
    "I am disappointed and annoyed",
    "this sucks",
)


def _texts(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def shares(texts: list[str] | tuple[str, ...]) -> dict[str, float]:
    """Percentage of `texts` whose compound score is at or below each threshold."""
    scores = [analyze(text).compound for text in texts]
    return {str(t): round(100 * sum(s <= t for s in scores) / len(scores), 2) for t in THRESHOLDS}


def main() -> None:
    """Print the table as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    root = parser.parse_args().datasets
    sets = {
        "banking77_train": _texts(root / "banking77" / "train.csv"),
        "clinc150_train_val": _texts(root / "clinc150" / "train.csv")
        + _texts(root / "clinc150" / "validation.csv"),
        "upset_phrases": list(UPSET),
    }
    result = {
        name: {"n": len(texts), "pct_at_or_below": shares(texts)} for name, texts in sets.items()
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
