"""The nearest-example memory (bot/components/class_memory.py): plain numpy, no Rasa needed."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bot"))
from components.class_memory import ClassMemory  # noqa: E402


def _blocks(rng: np.random.Generator, n: int) -> list:
    sparse = sp.random(n, 50, density=0.2, random_state=int(rng.integers(1 << 30)), format="csr")
    return [sparse, rng.normal(size=(n, 8))]


def _brute(blocks: list, queries: list, labels: np.ndarray, n_classes: int, k: int) -> np.ndarray:
    parts = [
        (q @ b.T).toarray() if sp.issparse(b) else q @ b.T
        for q, b in zip(queries, blocks, strict=True)
    ]
    sims = np.sum(parts, axis=0)
    out = np.zeros((sims.shape[0], n_classes))
    for c in range(n_classes):
        mine = sims[:, labels == c]
        if mine.shape[1]:
            top = -np.sort(-mine, axis=1)[:, :k]
            out[:, c] = top.mean(axis=1)
    return out


@pytest.mark.parametrize("k", [1, 3, 7])
def test_scores_are_the_mean_of_the_k_nearest_rows_of_each_intent(k: int) -> None:
    rng = np.random.default_rng(k)
    labels = np.array([0] * 9 + [1] * 2 + [3] * 5)  # intent 2 has no rows, intent 1 fewer than k
    rng.shuffle(labels)
    blocks = _blocks(rng, len(labels))
    queries = _blocks(rng, 300)  # more than one chunk of 128
    memory = ClassMemory(blocks, labels, 4, k)
    got = memory.scores(queries)
    want = _brute(blocks, queries, labels, 4, k)
    assert got.shape == (300, 4)
    assert np.allclose(got, want, atol=1e-4)
    assert np.all(got[:, 2] == 0.0)


def test_a_stored_row_is_its_own_nearest_neighbour() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(5), 4)
    dense = rng.normal(size=(20, 16))
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    memory = ClassMemory([dense], labels, 5, 1)
    assert np.array_equal(memory.scores([dense]).argmax(axis=1), labels)


def test_arrays_round_trip_without_pickles(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    labels = np.array([0, 0, 1, 1, 1, 2])
    memory = ClassMemory(_blocks(rng, 6), labels, 3, 2)
    np.savez(tmp_path / "m.npz", **memory.to_arrays())
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        loaded = ClassMemory.from_arrays(data)
    queries = _blocks(rng, 10)
    assert np.allclose(loaded.scores(queries), memory.scores(queries))


def test_k_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ClassMemory([np.zeros((2, 3))], np.array([0, 1]), 2, 0)


def test_dense_blocks_can_keep_only_their_leading_columns() -> None:
    rng = np.random.default_rng(2)
    labels = np.array([0, 0, 1, 1, 2, 2])
    wide = rng.normal(size=(6, 12))
    queries = rng.normal(size=(4, 12))
    cut = ClassMemory([wide], labels, 3, 1, dense_dims=5)
    assert cut.blocks[0].shape == (6, 5)
    want = ClassMemory([wide[:, :5]], labels, 3, 1).scores([queries[:, :5]])
    assert np.allclose(cut.scores([queries]), want, atol=1e-5)
