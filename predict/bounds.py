"""The score bounds that matter to the rules engine, read from `config/score_bounds.yml`.

Rules react to a score crossing a bound (`score_crossed`), not to every re-score: the bounds
live in one small file a sales-operations person edits next to the rule files.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from predict.errors import PredictError

DEFAULT_BOUNDS_FILE = Path(__file__).resolve().parent.parent / "config" / "score_bounds.yml"


class BoundsError(PredictError):
    """The bounds file is not a mapping of kind → list of numbers in (0, 1)."""


def bounds_file() -> Path:
    """`CRM_SCORE_BOUNDS` when set (tests, other deployments), else the shipped file."""
    return Path(os.environ.get("CRM_SCORE_BOUNDS") or DEFAULT_BOUNDS_FILE)


def score_bounds(kind: str, path: Path | None = None) -> tuple[float, ...]:
    """The bounds for one prediction kind, ascending; empty when the kind has none.

    Raises:
        BoundsError: the file is unreadable, not a mapping, or a bound is not in (0, 1).
    """
    path = path or bounds_file()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BoundsError(f"{path}: cannot read score bounds: {exc}") from exc
    if not isinstance(data, dict):
        raise BoundsError(f"{path}: expected a mapping of kind to a list of bounds")
    values = data.get(kind) or []
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and 0 < v < 1 for v in values
    ):
        raise BoundsError(f"{path}: {kind}: bounds must be a list of numbers between 0 and 1")
    return tuple(sorted({float(v) for v in values}))
