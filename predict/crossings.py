"""Batch scoring → rules: an event when an account's score crosses a configured bound.

The scorer reads every account's current score once before it writes, then compares each
written chunk with it; only accounts whose score moved across a bound become events (a
vectorised test, so a million-row run pays for the crossings, not for every account).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.models import PredictionScore
from crm_store.queries.events import ScoreChange, record_score_crossings

# account id -> (prediction_scores.id, score) of the account's latest score of one kind
Previous = Mapping[int, tuple[int, float | None]]


def previous_scores(session: Session, kind: str) -> dict[int, tuple[int, float | None]]:
    """The latest stored score of `kind` per account, with its row id (rows only append)."""
    latest = (select(PredictionScore.account_id, func.max(PredictionScore.id).label("id"))
              .where(PredictionScore.kind == kind).group_by(PredictionScore.account_id)
              .subquery())  # fmt: skip
    stmt = select(PredictionScore.account_id, PredictionScore.id, PredictionScore.score).join(
        latest, PredictionScore.id == latest.c.id
    )
    return {account: (row, score) for account, row, score in session.execute(stmt)}


def crossing_mask(previous: np.ndarray, scores: np.ndarray, bounds: Sequence[float]) -> np.ndarray:
    """True where a score crossed at least one bound (NaN previous: a first score, which
    crosses every bound it reaches), the same test as `crossed_bounds` in the store."""
    mask = np.zeros(len(scores), dtype=bool)
    first = np.isnan(previous)
    for bound in bounds:
        mask |= (first & (scores >= bound)) | ((previous < bound) & (scores >= bound))
        mask |= (scores < bound) & (previous >= bound)
    return mask


def record_crossings(
    session: Session,
    kind: str,
    account_ids: Sequence[int],
    scores: Sequence[float],
    previous: Previous,
    bounds: Sequence[float],
) -> int:
    """Write the `score_crossed` events of one scored chunk (in the caller's transaction).

    Returns:
        How many events were written (0 when nothing crossed or `bounds` is empty).
    """
    if not bounds or not len(account_ids):
        return 0
    new = np.asarray(scores, dtype=float)
    old = np.array([_score(previous.get(a)) for a in account_ids], dtype=float)
    changes = []
    for i in np.flatnonzero(crossing_mask(old, new, bounds)):
        account = int(account_ids[i])
        row, score = previous.get(account, (None, None))
        changes.append(ScoreChange(account, float(new[i]), score, row))
    return record_score_crossings(session=session, kind=kind, changes=changes, bounds=tuple(bounds))


def _score(entry: tuple[int, float | None] | None) -> float:
    return np.nan if entry is None or entry[1] is None else float(entry[1])
