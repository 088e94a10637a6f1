"""FAISS index vs exact NumPy search, incremental add / replace / remove, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.vector_index import VectorIndex, exact_search


def _unit(rng: np.random.Generator, n: int, dim: int = 32) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_flat_index_equals_exact_numpy_search() -> None:
    rng = np.random.default_rng(0)
    data, queries = _unit(rng, 500), _unit(rng, 20)
    ids = rng.choice(10_000, size=500, replace=False).astype(np.int64)
    index = VectorIndex(32, "flat")
    index.add(ids, data)
    got_scores, got_ids = index.search(queries, 10)
    want_scores, want_ids = exact_search(data, ids, queries, 10)
    np.testing.assert_allclose(got_scores, want_scores, rtol=1e-5, atol=1e-5)
    assert (got_ids == want_ids).mean() > 0.99  # ties may swap order


def test_hnsw_index_finds_nearly_all_exact_neighbours() -> None:
    rng = np.random.default_rng(1)
    data, queries = _unit(rng, 2000), _unit(rng, 50)
    ids = np.arange(2000, dtype=np.int64)
    index = VectorIndex(32, "hnsw")
    index.add(ids, data)
    _, got = index.search(queries, 10)
    _, want = exact_search(data, ids, queries, 10)
    recall = np.mean([len(set(g) & set(w)) / 10 for g, w in zip(got, want, strict=True)])
    assert recall >= 0.95


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_replace_and_remove_touch_only_given_ids(kind: str) -> None:
    rng = np.random.default_rng(2)
    data = _unit(rng, 100)
    index = VectorIndex(32, kind)
    index.add(np.arange(100), data)
    index.add(np.array([5]), data[7:8])  # replace id 5 with the vector of id 7
    assert len(index) == 100
    np.testing.assert_allclose(index.vectors(np.array([5]))[0], data[7], atol=1e-6)
    assert index.remove(np.array([7, 8, 12345])) == 2
    assert len(index) == 98
    _, ids = index.search(data[8:9], 98)
    assert 8 not in ids[0] and 7 not in ids[0]
    np.testing.assert_allclose(index.vectors(np.array([9]))[0], data[9], atol=1e-6)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_save_and_load_round_trip(tmp_path: Path, kind: str) -> None:
    rng = np.random.default_rng(3)
    data = _unit(rng, 50)
    index = VectorIndex(32, kind)
    index.add(np.arange(100, 150), data)
    index.remove(np.array([100]))
    index.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss", kind)
    assert len(loaded) == 49 and 100 not in loaded.ids()
    assert (loaded.search(data[:3], 5)[1] == index.search(data[:3], 5)[1]).all()
    with pytest.raises(FileNotFoundError):
        VectorIndex.load(tmp_path / "missing.faiss", kind)


def test_hnsw_deletes_by_tombstone_and_compacts_late() -> None:
    rng = np.random.default_rng(4)
    data = _unit(rng, 100)
    index = VectorIndex(32, "hnsw")
    index.add(np.arange(100), data)
    index.remove(np.arange(10))  # 10 % dead: no rebuild yet
    assert len(index) == 90 and index._index.ntotal == 100
    _, ids = index.search(data[:10], 5)
    assert not np.isin(ids, np.arange(10)).any()
    index.add(np.array([50]), data[0:1])  # an update is a tombstone plus an add
    assert index.search(data[0:1], 1)[1][0, 0] == 50
    index.remove(np.arange(10, 25))  # now over 20 % dead: compacted
    assert index._index.ntotal == len(index) == 75


def test_empty_index_search_returns_no_ids() -> None:
    _, ids = VectorIndex(8).search(np.ones((1, 8), np.float32), 5)
    assert (ids == -1).all()
