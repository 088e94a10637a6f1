"""Group-level fusion of the question view, the body view and BM25.

Why groups: an FAQ thread or an article has several chunks; the query matches the *thread*,
so we score the group by its best chunk in each view and fuse the views (measured in
docs/benchmarks.md: question + body fusion beats either view alone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

LATE_GROUPS = 10  # groups re-ranked by late interaction (top 5 or 20 measured the same)


@dataclass(frozen=True)
class FusionWeights:
    """Weights of the signals; `key` + `body` (+ `lexical`) make the dense fused score.

    `late` is the share of MaxSim (`retrieval.late`) in the final score of the top
    `LATE_GROUPS` groups: `(1 - late) * fused + late * maxsim`; 0.4 was chosen inside every
    fold of a 5-fold cross-validation on the training queries (docs/benchmarks.md).
    """

    key: float = 0.5
    body: float = 0.5
    lexical: float = 0.0
    late: float = 0.4


@dataclass(frozen=True)
class GroupScore:
    """Fused score of one group, with the chunk to cite."""

    group: str
    score: float
    best_chunk: int
    key: float
    body: float
    lexical: float
    late: float | None = None  # MaxSim of the group's best chunk; None when not re-ranked


def fuse(
    key_hits: list[tuple[int, float]],
    body_hits: list[tuple[int, float]],
    lex_hits: list[tuple[int, float]],
    group_of: Callable[[int], str],
    weights: FusionWeights,
) -> list[GroupScore]:
    """Fuse per-chunk hits of each view into group scores, best first.

    Args:
        key_hits / body_hits: (chunk_id, cosine) from the question and body views, already
            filtered to what the audience may see.
        lex_hits: (chunk_id, BM25) pairs; normalised by the best BM25 score of the query.
        group_of: maps a chunk id to its group.
        weights: how much each view counts.

    Returns:
        Groups sorted by fused score. A group missing from a view gets that view's lowest
        retrieved score (it ranked below every retrieved candidate).
    """
    key_best = _best_per_group(key_hits, group_of)
    body_best = _best_per_group(body_hits, group_of)
    lex_best = _best_per_group(lex_hits, group_of)
    key_floor = min((s for _, s in key_hits), default=0.0)
    body_floor = min((s for _, s in body_hits), default=0.0)
    lex_top = max((s for _, s in lex_hits), default=0.0) or 1.0
    out = []
    for group in set(key_best) | set(body_best):
        k = key_best.get(group, (-1, key_floor))
        b = body_best.get(group, (-1, body_floor))
        lex = lex_best.get(group, (-1, 0.0))[1] / lex_top
        score = weights.key * k[1] + weights.body * b[1] + weights.lexical * lex
        best = b[0] if b[0] >= 0 else k[0]
        out.append(GroupScore(group, score, best, k[1], b[1], lex))
    out.sort(key=lambda g: (-g.score, g.group))
    return out


def _best_per_group(
    hits: list[tuple[int, float]], group_of: Callable[[int], str]
) -> dict[str, tuple[int, float]]:
    best: dict[str, tuple[int, float]] = {}
    for chunk_id, score in hits:
        group = group_of(chunk_id)
        if group not in best or score > best[group][1]:
            best[group] = (chunk_id, score)
    return best


def rerank_late(
    groups: list[GroupScore],
    late_of: Callable[[GroupScore], float | None],
    weight: float,
) -> list[GroupScore]:
    """Re-rank the top `LATE_GROUPS` groups by `(1 - weight) * fused + weight * maxsim`.

    Args:
        groups: fused groups, best first.
        late_of: the group's MaxSim (best over its candidate chunks), None when unknown.
        weight: the `late` fusion weight; 0 returns the groups unchanged.

    Returns:
        The re-ranked top groups followed by the rest, whose scores are scaled by
        `1 - weight` so every score stays on one scale (the rest had MaxSim 0 at most).
    """
    if weight <= 0 or not groups:
        return groups
    top = []
    for g in groups[:LATE_GROUPS]:
        late = late_of(g)
        if late is None:
            return groups  # no token vectors (e.g. an index loaded without them): no re-rank
        top.append(replace(g, score=(1 - weight) * g.score + weight * late, late=late))
    top.sort(key=lambda g: (-g.score, g.group))
    rest = [replace(g, score=(1 - weight) * g.score) for g in groups[LATE_GROUPS:]]
    return top + rest
