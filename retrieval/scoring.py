"""Group-level fusion of the question view, the body view and BM25.

Why groups: an FAQ thread or an article has several chunks; the query matches the *thread*,
so we score the group by its best chunk in each view and fuse the views (measured in
docs/benchmarks.md: question + body fusion beats either view alone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FusionWeights:
    """Weights of the three signals; they sum to 1 for the dense part plus `lexical`."""

    key: float = 0.5
    body: float = 0.5
    lexical: float = 0.0


@dataclass(frozen=True)
class GroupScore:
    """Fused score of one group, with the chunk to cite."""

    group: str
    score: float
    best_chunk: int
    key: float
    body: float
    lexical: float


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
