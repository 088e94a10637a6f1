"""Honest held-out splits of the training queries, and CLINC150 `oos` negatives as CSV.

Two splits, because they answer different questions:
- `by_position`: per thread, the last of its queries is held out and the others may serve as
  known phrasings; this mirrors the real test (new phrasings of the same threads).
- `by_thread`: every fifth thread is held out entirely; nothing about those threads is seen
  while tuning, so it measures how the corpus-only system generalises to new articles.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from retrieval.csv_input import read_rows


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def write_splits(queries: Path, out_dir: Path, group_col: str = "thread_id") -> list[Path]:
    """Write by_position_{train,held}.csv and by_thread_{train,held}.csv into out_dir."""
    rows = read_rows(queries, [group_col])
    header = list(rows[0].keys())
    per_group: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        per_group[row[group_col]].append(row)
    out_dir.mkdir(parents=True, exist_ok=True)
    splits = {
        "by_position": lambda g, i, n: i == n - 1,
        "by_thread": lambda g, i, n: sorted(per_group).index(g) % 5 == 0,
    }
    written = []
    for name, held_out in splits.items():
        parts: dict[str, list[dict[str, str]]] = {"train": [], "held": []}
        for group, members in per_group.items():
            for i, row in enumerate(members):
                parts["held" if held_out(group, i, len(members)) else "train"].append(row)
        for part, part_rows in parts.items():
            path = out_dir / f"{name}_{part}.csv"
            _write(path, header, part_rows)
            written.append(path)
    return written


def write_oos(clinc_csv: Path, out: Path, split: str) -> Path:
    """Write the CLINC150 `oos` rows of one split (`oos_train` or `oos_val`) as a `text` CSV."""
    rows = [r for r in read_rows(clinc_csv, ["text", "intent"]) if r["intent"] == "oos"]
    rows = [r for r in rows if r.get("split", split) == split]
    _write(out, ["text"], rows)
    return out
