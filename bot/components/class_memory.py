"""Nearest-neighbour evidence per intent, added to the linear classifier's scores.

Why: a linear SVM draws one hyperplane per intent, but many intents are phrased in a few
distinct ways (BANKING77's "my card hasn't arrived" and "how long until my card is
delivered"). The training examples closest to a message, in the classifier's own weighted
feature space (n-gram TF-IDF blocks plus the scaled sentence embedding), carry evidence the
hyperplanes average away. The mean similarity of the `k` most similar examples of each
intent, added to the SVM score, measured +0.5 to +0.7 points of accuracy on BANKING77's
5-fold cross-validation (docs/benchmarks.md, NLU).

The memory keeps each feature block as it came (sparse CSR or dense rows, float32), so a
single message costs one sparse product per n-gram block and one small dense product for the
embedding. Dense blocks can be cut to their first `dense_dims` columns: the inner-layer
columns the featurizer appends to the embedding changed no neighbour decision on BANKING77
(93.45 % with or without them), and reading 10k x 1152 floats per message cost 10 ms of memory
bandwidth against 3 ms for the 384 of the embedding.
"""

# Rasa's graph validation compares annotations with its own `typing.List` ones.
# ruff: noqa: UP006, UP035

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
import scipy.sparse as sp

_CHUNK = 128  # messages scored at once: bounds the (messages x intents x examples) grid


class ClassMemory:
    """Training rows grouped by intent; scores a message by its nearest rows of each intent."""

    def __init__(
        self,
        blocks: List[Any],
        labels: np.ndarray,
        n_classes: int,
        k: int,
        dense_dims: int | None = None,
    ) -> None:
        """Keep `blocks` (one matrix per feature block, rows = examples) and their labels.

        `dense_dims`: keep only that many leading columns of each dense block (None: all).
        Queries are cut the same way, by the stored width.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.k = int(k)
        self.n_classes = int(n_classes)
        self.labels = np.asarray(labels, dtype=np.int64)
        # Kept transposed (features x examples; sparse as CSR): a message touches only the
        # rows of its own few n-grams instead of every stored example. Only this copy is kept.
        self._by_feature = [_transposed(_compact(block, dense_dims)) for block in blocks]
        counts = np.bincount(self.labels, minlength=self.n_classes)
        self.width = max(int(counts.max()), 1)
        # Each row's slot in a (classes x width) grid: its rank among its class's rows.
        order = np.argsort(self.labels, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.slots = np.empty(len(self.labels), dtype=np.int64)
        self.slots[order] = np.arange(len(order)) - np.repeat(starts, counts)
        self.counts = counts

    @property
    def blocks(self) -> List[Any]:
        """The stored blocks with one row per example (derived; for persisting)."""
        return [_transposed(b) for b in self._by_feature]

    def similarities(self, queries: List[Any]) -> np.ndarray:
        """Dot products of each query row with every stored row, summed over the blocks."""
        total = None
        for query, by_feature in zip(queries, self._by_feature, strict=True):
            if sp.issparse(by_feature):
                part = (sp.csr_matrix(query, dtype=np.float32) @ by_feature).toarray()
            else:
                width = by_feature.shape[0]
                part = np.asarray(query[:, :width], dtype=np.float32) @ by_feature
            total = part if total is None else total + part
        return np.asarray(total, dtype=np.float64)

    def scores(self, queries: List[Any]) -> np.ndarray:
        """Per intent, the mean similarity of its `k` most similar rows (fewer if it has fewer).

        An intent without stored rows scores 0.
        """
        n = queries[0].shape[0]
        out = np.zeros((n, self.n_classes))
        k = min(self.k, self.width)
        have = np.minimum(self.counts, k).astype(np.float64)
        for start in range(0, n, _CHUNK):
            rows = [q[start : start + _CHUNK] for q in queries]
            sims = self.similarities(rows)
            grid = np.full((sims.shape[0], self.n_classes, self.width), -np.inf)
            grid[:, self.labels, self.slots] = sims
            top = -np.partition(-grid, k - 1, axis=2)[:, :, :k] if k < self.width else grid
            top = np.where(np.isfinite(top), top, 0.0)
            out[start : start + _CHUNK] = top.sum(axis=2) / np.clip(have, 1.0, None)
        return out

    def to_arrays(self) -> Dict[str, np.ndarray]:
        """Plain arrays for an `.npz` (no pickles)."""
        arrays: Dict[str, np.ndarray] = {
            "mem_labels": self.labels,
            "mem_meta": np.array([self.k, self.n_classes, len(self._by_feature)], dtype=np.int64),
        }
        for i, block in enumerate(self.blocks):
            if sp.issparse(block):
                arrays[f"mem_{i}_data"] = block.data
                arrays[f"mem_{i}_indices"] = block.indices
                arrays[f"mem_{i}_indptr"] = block.indptr
                arrays[f"mem_{i}_shape"] = np.array(block.shape, dtype=np.int64)
            else:
                arrays[f"mem_{i}_dense"] = block
        return arrays

    @classmethod
    def from_arrays(cls, data: Any) -> ClassMemory:
        """Rebuild a memory written by `to_arrays` (an open `np.load` result)."""
        k, n_classes, n_blocks = (int(v) for v in data["mem_meta"])
        blocks: List[Any] = []
        for i in range(n_blocks):
            if f"mem_{i}_dense" in data:
                blocks.append(data[f"mem_{i}_dense"])
            else:
                shape = tuple(int(v) for v in data[f"mem_{i}_shape"])
                blocks.append(
                    sp.csr_matrix(
                        (data[f"mem_{i}_data"], data[f"mem_{i}_indices"], data[f"mem_{i}_indptr"]),
                        shape=shape,
                    )
                )
        return cls(blocks, data["mem_labels"], n_classes, k)


def _transposed(block: Any) -> Any:
    return block.T.tocsr() if sp.issparse(block) else block.T


def _compact(block: Any, dense_dims: int | None) -> Any:
    """float32 copies: half the memory, and similarities need no more precision."""
    if sp.issparse(block):
        return sp.csr_matrix(block, dtype=np.float32)
    return np.ascontiguousarray(np.asarray(block)[:, :dense_dims], dtype=np.float32)
