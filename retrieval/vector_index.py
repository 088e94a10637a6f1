"""FAISS vector index with stable int64 ids, exact by default, HNSW above a size threshold.

Ids are the chunk row ids of the CRM store (`IndexIDMap2`), so a search result maps straight
back to a row, and add / remove touch only the given ids (no full rebuild).
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

HNSW_M = 16
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 128
# One query is answered fastest on one thread: OpenMP's hand-off costs more than it saves,
# and on a busy 2-core machine a 2-thread flat search measured 71 ms vs 1.3 ms (10k vectors,
# docs/benchmarks.md). Batches and index builds use `threads`.
SINGLE_QUERY_THREADS = 1


class VectorIndex:
    """Inner-product search over L2-normalised vectors (so scores are cosines).

    Args:
        dim: vector size.
        kind: "flat" (exact) or "hnsw" (approximate; removal rebuilds the graph from stored
            vectors because HNSW cannot delete in place).
    """

    def __init__(self, dim: int, kind: str = "flat", threads: int = 2) -> None:
        if kind not in ("flat", "hnsw"):
            raise ValueError(f"unknown index kind {kind!r}: use flat or hnsw")
        self.dim = dim
        self.kind = kind
        self.threads = threads
        self._index = faiss.IndexIDMap2(self._base())

    def _base(self) -> faiss.Index:
        if self.kind == "flat":
            return faiss.IndexFlatIP(self.dim)
        base = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        base.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        base.hnsw.efSearch = HNSW_EF_SEARCH
        return base

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        """Return every stored id (int64)."""
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under ids; an id already present is replaced."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        self.remove(ids)
        faiss.omp_set_num_threads(self.threads)
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)

    def remove(self, ids: np.ndarray) -> int:
        """Remove the given ids (unknown ids are ignored). Returns how many were removed."""
        ids = np.asarray(ids, dtype=np.int64)
        present = ids[np.isin(ids, self.ids())]
        if len(present) == 0:
            return 0
        if self.kind == "flat":
            return int(self._index.remove_ids(faiss.IDSelectorArray(present)))
        keep = np.setdiff1d(self.ids(), present)
        vectors = self.vectors(keep)
        self._index = faiss.IndexIDMap2(self._base())
        faiss.omp_set_num_threads(self.threads)
        if len(keep):
            self._index.add_with_ids(vectors, keep)
        return len(present)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Return the stored vectors of ids, in order."""
        if len(ids) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._index.reconstruct(int(i)) for i in ids]).astype(np.float32)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, ids), each (n_queries, k); missing slots have id -1."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, len(self)))
        if len(self) == 0:
            n = len(queries)
            return np.zeros((n, 1), np.float32), np.full((n, 1), -1, np.int64)
        faiss.omp_set_num_threads(SINGLE_QUERY_THREADS if len(queries) < 4 else self.threads)
        return self._index.search(queries, k)

    def save(self, path: Path) -> None:
        """Write the index to one file (atomic rename)."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        faiss.write_index(self._index, str(tmp))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, kind: str, threads: int = 2) -> VectorIndex:
        """Read an index written by `save`; raises FileNotFoundError when absent."""
        if not path.exists():
            raise FileNotFoundError(f"no vector index at {path}")
        obj = cls.__new__(cls)
        obj._index = faiss.read_index(str(path))
        obj.dim = obj._index.d
        obj.kind = kind
        obj.threads = threads
        return obj


def exact_search(
    matrix: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Reference brute-force inner-product search in NumPy (what the tests compare against).

    Returns:
        (scores, ids) sorted by descending score, each (n_queries, min(k, len(ids))).
    """
    scores = np.atleast_2d(queries) @ matrix.T
    k = min(k, len(ids))
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, 1), ids[order]
