"""Late interaction (MaxSim) over MiniLM token vectors: a re-ranking signal for small indexes.

Why: a sentence vector averages the tokens away, so a paraphrase that shares the rare,
decisive words of an FAQ entry ("strikethrough", "rebase") can lose to an entry about the same
topic. MaxSim (ColBERT-style: for each query token, its best cosine among a chunk's tokens,
averaged over the query) keeps those words. With the same MiniLM forward pass it costs no extra
model time; fusing it with weight 0.4 raised held-out recall@1 on StackFAQ training queries from
0.955 to 0.966 (5-fold, weight chosen inside the folds; docs/benchmarks.md).

Cost: the token vectors of every chunk are kept, as int8 with one scale per token (~70 KB for
an 800-character chunk; MaxSim moved by at most 0.0012 against float32 on StackFAQ and the
ranking did not change), so the signal is used only up to `RetrievalSettings.late_max_chunks`
chunks. float16 storage was 4x slower to score (numpy converts float16 without SIMD).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def maxsim(query: np.ndarray, doc: np.ndarray) -> float:
    """Mean over query tokens of the best cosine with any doc token (inputs are normalised)."""
    if len(query) == 0 or len(doc) == 0:
        return 0.0
    sims = query.astype(np.float32) @ doc.astype(np.float32).T
    return float(sims.max(axis=1).mean())


def quantise(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes and a float32 scale per token (its largest absolute value / 127)."""
    x = np.asarray(tokens, dtype=np.float32)
    scale = np.clip(np.abs(x).max(axis=1, keepdims=True), 1e-12, None) / 127
    return np.round(x / scale).astype(np.int8), scale.astype(np.float32)


class TokenStore:
    """Token vectors per chunk id (int8 + scale), kept in memory, saved as one `.npz` file."""

    def __init__(self) -> None:
        self.rows: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, chunk_id: int, tokens: np.ndarray) -> None:
        """Store (or replace) the token vectors of one chunk."""
        self.rows[int(chunk_id)] = quantise(tokens)

    def remove(self, chunk_id: int) -> None:
        """Forget one chunk (absent ids are ignored)."""
        self.rows.pop(int(chunk_id), None)

    def vectors(self, chunk_id: int) -> np.ndarray | None:
        """The chunk's token vectors as float32 (dequantised), or None when unknown."""
        row = self.rows.get(int(chunk_id))
        return None if row is None else row[0].astype(np.float32) * row[1]

    def score(self, query: np.ndarray, chunk_id: int) -> float | None:
        """MaxSim of the query tokens against one chunk, or None when it has no tokens."""
        doc = self.vectors(chunk_id)
        return None if doc is None else maxsim(query, doc)

    def score_many(self, query: np.ndarray, chunk_ids: list[int]) -> dict[int, float]:
        """MaxSim of the query against each known chunk, in one product (unknown ids skipped).

        One product over the stacked chunks rather than one per chunk, and no BLAS: a BLAS
        call hands the work to its threads, which on the busy 2-core machine cost ~2 ms per
        call (the same hand-off that made FAISS use one thread per query); einsum's own loop
        does the ~10M multiply-adds of a query in about a millisecond.
        """
        known = [int(c) for c in dict.fromkeys(chunk_ids) if int(c) in self.rows]
        if not known or len(query) == 0:
            return {c: 0.0 for c in known}
        codes = np.concatenate([self.rows[c][0] for c in known]).astype(np.float32)
        scales = np.concatenate([self.rows[c][1] for c in known])
        sims = np.einsum("qd,td->qt", query.astype(np.float32), codes) * scales.T
        starts = np.cumsum([0] + [len(self.rows[c][0]) for c in known[:-1]])
        best = np.maximum.reduceat(sims, starts, axis=1).mean(axis=0)
        return dict(zip(known, best.tolist(), strict=True))

    def save(self, path: Path) -> None:
        """Write ids, token counts, codes and scales (atomic replace)."""
        ids = np.array(sorted(self.rows), dtype=np.int64)
        parts = [self.rows[int(i)] for i in ids]
        lengths = np.array([len(codes) for codes, _ in parts], dtype=np.int64)
        codes = np.concatenate([c for c, _ in parts]) if parts else np.zeros((0, 0), np.int8)
        scales = np.concatenate([s for _, s in parts]) if parts else np.zeros((0, 1), np.float32)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, ids=ids, lengths=lengths, codes=codes, scales=scales)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> TokenStore:
        """Read a file written by `save` (raises OSError / ValueError / KeyError when unusable)."""
        store = cls()
        with np.load(path, allow_pickle=False) as z:
            ids, lengths, codes, scales = z["ids"], z["lengths"], z["codes"], z["scales"]
        ends = np.cumsum(lengths)
        for chunk_id, end, n in zip(ids.tolist(), ends.tolist(), lengths.tolist(), strict=True):
            store.rows[chunk_id] = (codes[end - n : end], scales[end - n : end])
        return store
