"""The ONNX copy of MiniLM gives the same embeddings as sentence-transformers (cos >= 0.999).

The fast test compares with reference vectors that sentence-transformers produced for TEXTS
(`data/minilm_torch_reference.npy`, regenerate with `python -m bench.retrieval reference`);
the `slow` test loads torch and compares live.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.config import RetrievalSettings
from retrieval.embedder import Embedder, TorchEmbedder, length_batches

TEXTS = [
    "How do I reset my password?",
    "Invoices are under Billing > History; click the PDF icon next to the month you need. " * 8,
    "x",
]
REFERENCE = Path(__file__).parent / "data" / "minilm_torch_reference.npy"


def _assert_same(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape == (len(TEXTS), 384)
    assert (np.sum(a * b, axis=1) >= 0.999).all()


def test_onnx_matches_sentence_transformers_reference(embedder: Embedder) -> None:
    onnx = embedder.encode(TEXTS)
    _assert_same(onnx, np.load(REFERENCE))
    np.testing.assert_allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_onnx_matches_sentence_transformers_live(
    embedder: Embedder, settings: RetrievalSettings
) -> None:
    _assert_same(embedder.encode(TEXTS), TorchEmbedder(settings).encode(TEXTS))


def test_empty_batch(embedder: Embedder) -> None:
    assert embedder.encode([]).shape == (0, 384)


def test_length_batches_never_mix_short_and_long_texts() -> None:
    lengths = [10, 200, 12, 180, 11, 9, 170, 12]
    batches = length_batches(lengths, 3)
    assert sorted(i for b in batches for i in b.tolist()) == list(range(len(lengths)))
    for b in batches:
        sizes = [lengths[i] for i in b]
        assert len(b) <= 3 and max(sizes) <= 1.25 * min(sizes) + 8
    assert [lengths[i] for i in batches[0]] == [9, 10, 11]
    assert length_batches([], 3) == []


def test_mixed_lengths_embed_like_one_at_a_time(embedder: Embedder) -> None:
    texts = ["Short title", TEXTS[1], "x", TEXTS[1][:300], "Another key"]
    together = embedder.encode(texts)
    alone = np.vstack([embedder.encode([t]) for t in texts])
    assert (np.sum(together * alone, axis=1) >= 0.9999).all()
