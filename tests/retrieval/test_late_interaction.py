"""MaxSim late interaction: the score, the token store, the re-rank and its persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.config import RetrievalSettings
from retrieval.embedder import Embedder
from retrieval.knowledge import TOKENS, KnowledgeIndex, StaleIndexError
from retrieval.late import TokenStore, maxsim
from retrieval.scoring import LATE_GROUPS, GroupScore, rerank_late
from tests.retrieval.conftest import make_chunks


def _unit(rows: list[list[float]]) -> np.ndarray:
    x = np.array(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_maxsim_averages_each_query_tokens_best_match() -> None:
    query = _unit([[1, 0, 0], [0, 1, 0]])
    doc = _unit([[1, 0, 0], [0, 0, 1]])
    # first query token matches exactly (1.0), the second matches nothing (0.0)
    assert maxsim(query, doc) == pytest.approx(0.5)
    assert maxsim(query, _unit([[1, 1, 0]])) == pytest.approx(np.sqrt(0.5))
    assert maxsim(query, np.zeros((0, 3))) == 0.0


def test_token_store_round_trip(tmp_path: Path) -> None:
    store = TokenStore()
    store.add(3, _unit([[1, 0], [0, 1]]))
    store.add(7, _unit([[1, 1]]))
    store.add(9, _unit([[0, 1]]))
    store.remove(9)
    store.save(tmp_path / "t.npz")
    back = TokenStore.load(tmp_path / "t.npz")
    assert set(back.rows) == {3, 7} and back.rows[3][0].shape == (2, 2)
    q = _unit([[1, 0]])
    assert back.score(q, 3) == pytest.approx(1.0, abs=5e-3)
    assert back.score(q, 7) == pytest.approx(np.sqrt(0.5), abs=5e-3)
    assert back.score(q, 9) is None


def _group(name: str, score: float) -> GroupScore:
    return GroupScore(name, score, 0, score, score, 0.0)


def test_rerank_moves_the_better_maxsim_up_and_keeps_one_scale() -> None:
    groups = [_group(f"g{i}", 0.9 - 0.01 * i) for i in range(LATE_GROUPS + 2)]
    late = {"g0": 0.2, "g1": 0.9}
    out = rerank_late(groups, lambda g: late.get(g.group, 0.1), 0.4)
    assert [g.group for g in out[:2]] == ["g1", "g0"]
    assert out[0].late == pytest.approx(0.9) and out[0].score == pytest.approx(0.6 * 0.89 + 0.36)
    assert [g.group for g in out[LATE_GROUPS:]] == [f"g{LATE_GROUPS}", f"g{LATE_GROUPS + 1}"]
    assert out[LATE_GROUPS].score == pytest.approx(0.6 * groups[LATE_GROUPS].score)
    assert out[LATE_GROUPS].late is None
    # unknown MaxSim (no token vectors) or weight 0: the dense ranking unchanged
    assert rerank_late(groups, lambda g: None, 0.4) == groups
    assert rerank_late(groups, lambda g: 1.0, 0.0) == groups


def test_onnx_tokens_come_from_the_same_pass(embedder: Embedder) -> None:
    texts = ["How do I reset my password?", "x", ""]
    vecs, tokens = embedder.encode_with_tokens(texts)  # type: ignore[attr-defined]
    np.testing.assert_allclose(vecs, embedder.encode(texts), atol=1e-5)
    # [CLS] and [SEP] dropped: "how do i reset my password ?" is 7 word pieces
    assert tokens[0].shape == (7, 384) and tokens[0].dtype == np.float16
    np.testing.assert_allclose(np.linalg.norm(tokens[0].astype(np.float32), axis=1), 1, atol=1e-2)
    assert len(tokens[2]) == 2  # an empty text keeps [CLS] [SEP] rather than nothing


def test_index_reranks_and_persists_token_vectors(
    index: KnowledgeIndex, settings: RetrievalSettings, embedder: Embedder, tmp_path: Path
) -> None:
    assert index.late_active and len(index.tokens or []) == len(index.chunks)
    groups = index.search_groups("where can I get the PDF of my bill")
    assert groups[0].group == "invoice" and groups[0].late is not None
    index.save(tmp_path)
    chunks = dict(index.chunks)
    loaded = KnowledgeIndex.load(tmp_path, chunks, embedder, settings)
    again = loaded.search_groups("where can I get the PDF of my bill")
    assert [(g.group, round(g.score, 3)) for g in again] == [
        (g.group, round(g.score, 3)) for g in groups
    ]
    (tmp_path / TOKENS).unlink()
    with pytest.raises(StaleIndexError):
        KnowledgeIndex.load(tmp_path, chunks, embedder, settings)


def test_large_index_keeps_no_token_vectors(
    embedder: Embedder, settings: RetrievalSettings
) -> None:
    kb = KnowledgeIndex(embedder, settings.with_(late_max_chunks=3))
    kb.add(make_chunks())
    assert not kb.late_active
    groups = kb.search_groups("where can I get the PDF of my bill")
    assert groups[0].group == "invoice" and groups[0].late is None
