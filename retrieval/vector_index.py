"""FAISS vector index with stable int64 ids, exact by default, HNSW above a size threshold.

Ids are the chunk row ids of the CRM store (`IndexIDMap2`), so a search result maps straight
back to a row, and add / remove touch only the given ids (no full rebuild):
- flat: vectors are removed in place (`remove_ids`);
- HNSW cannot delete from its graph, so each vector gets an internal slot; removing or
  replacing an id marks its old slot dead, searches skip dead slots, and the graph is
  compacted only when dead slots exceed `COMPACT_RATIO` of the index.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

HNSW_M = 16
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 128
COMPACT_RATIO = 0.2
# One query is answered fastest on one thread: OpenMP's hand-off costs more than it saves,
# and on a busy 2-core machine a 2-thread flat search measured 71 ms vs 1.3 ms (10k vectors,
# docs/benchmarks.md). Batches and index builds use `threads`.
SINGLE_QUERY_THREADS = 1


class VectorIndex:
    """Inner-product search over L2-normalised vectors (so scores are cosines).

    Args:
        dim: vector size.
        kind: "flat" (exact) or "hnsw" (approximate, deletions by tombstone).
        threads: OpenMP threads for adds and batch searches.
    """

    def __init__(self, dim: int, kind: str = "flat", threads: int = 2) -> None:
        if kind not in ("flat", "hnsw"):
            raise ValueError(f"unknown index kind {kind!r}: use flat or hnsw")
        self.dim, self.kind, self.threads = dim, kind, threads
        self._index = faiss.IndexIDMap2(self._base())
        # HNSW only: external id <-> internal slot, and slots whose vector is dead.
        self._slot: dict[int, int] = {}
        self._ext: dict[int, int] = {}
        self._dead: set[int] = set()
        self._next_slot = 0

    def _base(self) -> faiss.Index:
        if self.kind == "flat":
            return faiss.IndexFlatIP(self.dim)
        base = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        base.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        base.hnsw.efSearch = HNSW_EF_SEARCH
        return base

    def __len__(self) -> int:
        return len(self._slot) if self.kind == "hnsw" else int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        """Return every live id (int64)."""
        if self.kind == "hnsw":
            return np.fromiter(self._slot.keys(), dtype=np.int64, count=len(self._slot))
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under ids; an id already present is replaced."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        self.remove(ids)
        faiss.omp_set_num_threads(self.threads)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.kind == "flat":
            self._index.add_with_ids(vectors, ids)
            return
        slots = np.arange(self._next_slot, self._next_slot + len(ids), dtype=np.int64)
        self._next_slot += len(ids)
        for ext, slot in zip(ids.tolist(), slots.tolist(), strict=True):
            self._slot[ext], self._ext[slot] = slot, ext
        self._index.add_with_ids(vectors, slots)

    def remove(self, ids: np.ndarray) -> int:
        """Remove the given ids (unknown ids are ignored). Returns how many were removed."""
        ids = np.asarray(ids, dtype=np.int64)
        if self.kind == "flat":
            present = ids[np.isin(ids, self.ids())]
            if len(present) == 0:
                return 0
            return int(self._index.remove_ids(faiss.IDSelectorArray(present)))
        removed = 0
        for ext in ids.tolist():
            slot = self._slot.pop(ext, None)
            if slot is not None:
                self._dead.add(slot)
                self._ext.pop(slot)
                removed += 1
        if self._dead and len(self._dead) > COMPACT_RATIO * self._index.ntotal:
            self._compact()
        return removed

    def _compact(self) -> None:
        live = self.ids()
        vectors = self.vectors(live)
        self._index = faiss.IndexIDMap2(self._base())
        self._slot, self._ext, self._dead, self._next_slot = {}, {}, set(), 0
        self.add(live, vectors)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Return the stored vectors of ids, in order."""
        if len(ids) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        keys = [self._slot[int(i)] for i in ids] if self.kind == "hnsw" else ids
        return np.stack([self._index.reconstruct(int(i)) for i in keys]).astype(np.float32)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, ids), each (n_queries, k); missing slots have id -1."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        n = len(queries)
        if len(self) == 0:
            return np.zeros((n, 1), np.float32), np.full((n, 1), -1, np.int64)
        k = max(1, min(k, len(self)))
        faiss.omp_set_num_threads(SINGLE_QUERY_THREADS if n < 4 else self.threads)
        if self.kind == "flat":
            return self._index.search(queries, k)
        # A replaced vector's dead slot sits next to its successor, so over-fetch a little.
        fetch = min(int(self._index.ntotal), 2 * k + min(len(self._dead), 256))
        scores, slots = self._index.search(queries, fetch)
        out_s = np.zeros((n, k), np.float32)
        out_i = np.full((n, k), -1, np.int64)
        for row in range(n):
            live = [
                (s, self._ext[i])
                for s, i in zip(scores[row], slots[row], strict=True)
                if i >= 0 and i not in self._dead
            ][:k]
            for col, (s, ext) in enumerate(live):
                out_s[row, col], out_i[row, col] = s, ext
        return out_s, out_i

    def save(self, path: Path) -> None:
        """Write the index (and, for HNSW, its slot map) next to each other, atomically."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        faiss.write_index(self._index, str(tmp))
        if self.kind == "hnsw":
            slots = np.array(list(self._ext.items()), dtype=np.int64).reshape(-1, 2)
            dead = np.array(sorted(self._dead), dtype=np.int64)
            with open(_map_path(path), "wb") as fh:
                np.savez(fh, slots=slots, dead=dead, next_slot=np.array([self._next_slot]))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, kind: str, threads: int = 2) -> VectorIndex:
        """Read an index written by `save`; raises FileNotFoundError when absent."""
        if not path.exists():
            raise FileNotFoundError(f"no vector index at {path}")
        obj = cls(1, kind, threads)
        obj._index = faiss.read_index(str(path))
        obj.dim = obj._index.d
        if kind == "hnsw":
            if not _map_path(path).exists():
                raise FileNotFoundError(f"no slot map at {_map_path(path)}")
            data = np.load(_map_path(path))
            obj._ext = {int(s): int(e) for s, e in data["slots"]}
            obj._slot = {e: s for s, e in obj._ext.items()}
            obj._dead = set(data["dead"].tolist())
            obj._next_slot = int(data["next_slot"][0])
        return obj


def _map_path(path: Path) -> Path:
    return path.with_suffix(".slots.npz")


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
