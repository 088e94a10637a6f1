"""The bot's own intents on messages the training data never saw (`bot_nlu_heldout.csv`).

`rasa test nlu --cross-validation` on `bot/data` (docs/nlu.md) scores examples written in the
same sessions as the rest of the data, and the data was improved while looking at its errors,
so it flatters. `bot_nlu_heldout.csv` holds 78 messages written once, before any evaluation on
them, and never used to change the data: a second, fresher figure. Trains the intent part of
`bot/config.yml` on every example in `bot/data/nlu` through `crm nlu evaluate` and prints its
JSON (accuracy, macro F1, in-scope accuracy and out-of-scope recall with the config's
fallback threshold) as the last line.

    .venv/bin/python bench/bot_nlu.py [--data bot/data/nlu] [--relabel choose_account=inform]

`--data` scores another version of the data (e.g. an older commit's, checked out elsewhere);
`--relabel` renames an intent of that data so its labels match the held-out file's.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
HELDOUT = Path(__file__).with_name("bot_nlu_heldout.csv")
_MARKUP = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")


def bot_examples(folder: Path = REPO / "bot" / "data" / "nlu") -> list[tuple[str, str]]:
    """(text, intent) of every example in `folder`, entity markup removed."""
    rows = []
    for path in sorted(folder.glob("*.yml")):
        for block in yaml.safe_load(path.read_text()).get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                text = _MARKUP.sub(r"\1", line.strip()[2:]).strip()
                if text:
                    rows.append((text, block["intent"]))
    return rows


def main() -> None:
    """Train on the bot's data, score the held-out messages, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "bot" / "data" / "nlu")
    parser.add_argument("--relabel", action="append", default=[], metavar="OLD=NEW")
    options = parser.parse_args()
    renames = dict(item.split("=", 1) for item in options.relabel)
    rows = [(text, renames.get(intent, intent)) for text, intent in bot_examples(options.data)]
    with tempfile.TemporaryDirectory() as tmp:
        train = Path(tmp) / "train.csv"
        with train.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "intent"])
            writer.writerows(rows)
        args = ["--train", str(train), "--test", str(HELDOUT)]
        args += ["--label-col", "intent", "--oos-label", "out_of_scope"]
        print("$ crm nlu evaluate " + " ".join(args), file=sys.stderr)
        result = subprocess.run(
            [sys.executable, "-m", "crm_cli.main", "nlu", "evaluate", *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    print(json.dumps({"data": str(options.data), "train_examples": len(rows), **metrics}))


if __name__ == "__main__":
    main()
