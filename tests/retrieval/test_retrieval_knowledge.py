"""The knowledge index with the real MiniLM embedder on a five-article help centre."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.embedder import Embedder
from retrieval.knowledge import KnowledgeIndex, StaleIndexError
from retrieval.types import Audience, Chunk
from retrieval.vector_index import exact_search
from tests.retrieval.conftest import make_chunks


def test_finds_the_matching_article(index: KnowledgeIndex) -> None:
    groups = index.search_groups("I forgot my password, how can I change it?")
    assert groups[0].group == "reset"
    assert index.chunks[groups[0].best_chunk].title == "Reset your password"
    assert [g.score for g in groups] == sorted((g.score for g in groups), reverse=True)


def test_faiss_body_scores_equal_exact_numpy(index: KnowledgeIndex, embedder: Embedder) -> None:
    chunks = make_chunks()
    matrix = embedder.encode([c.body() for c in chunks])
    ids = np.array([c.id for c in chunks], dtype=np.int64)
    query = embedder.encode(["where are my invoices"])
    got_scores, got_ids = index.bodies.search(query, 5)
    want_scores, want_ids = exact_search(matrix, ids, query, 5)
    assert (got_ids == want_ids).all()
    np.testing.assert_allclose(got_scores, want_scores, atol=1e-5)


def test_public_audience_never_sees_internal_chunks(index: KnowledgeIndex) -> None:
    query = "what discount can a sales rep give without approval"
    staff = index.search_groups(query, Audience.internal)
    assert staff[0].group == "discount"
    public = index.search_groups(query, Audience.public)
    seen = {index.chunks[g.best_chunk].audience for g in public}
    assert "discount" not in {g.group for g in public} and seen == {Audience.public}


def test_update_replaces_only_the_changed_chunk(index: KnowledgeIndex) -> None:
    before = index.bodies.vectors(np.array([2, 3]))
    changed = Chunk(
        source="reset.md",
        ordinal=0,
        group="reset",
        title="Reset your password",
        text="Passwords are reset by the workspace owner in the Admin console.",
        id=1,
    )
    index.add([changed])
    assert len(index) == 5
    assert "Admin console" in index.chunks[1].text
    np.testing.assert_allclose(index.bodies.vectors(np.array([2, 3])), before)
    assert index.search_groups("who resets passwords in the admin console")[0].group == "reset"


def test_delete_removes_chunk_from_every_view(index: KnowledgeIndex) -> None:
    assert index.remove([4]) == 1
    assert 4 not in index.bodies.ids() and not any(k // 64 == 4 for k in index.keys.ids())
    assert "refund" not in {g.group for g in index.search_groups("can I get my money back")}
    assert index.bm25.search("refunded", 5) == []


def test_save_load_and_stale_detection(index: KnowledgeIndex, tmp_path: Path) -> None:
    index.save(tmp_path)
    loaded = KnowledgeIndex.load(tmp_path, dict(index.chunks), index.embedder, index.settings)
    q = "download the invoice pdf"
    assert [g.group for g in loaded.search_groups(q)] == [g.group for g in index.search_groups(q)]
    fewer = dict(index.chunks)
    fewer.pop(1)
    with pytest.raises(StaleIndexError):
        KnowledgeIndex.load(tmp_path, fewer, index.embedder, index.settings)
    with pytest.raises(StaleIndexError):
        KnowledgeIndex.load(tmp_path / "nothing", fewer, index.embedder, index.settings)


def test_switches_to_hnsw_above_threshold(embedder: Embedder, settings) -> None:  # noqa: ANN001
    kb = KnowledgeIndex(embedder, settings.with_(approx_threshold=3))
    kb.add(make_chunks())
    assert kb.kind == "hnsw" and len(kb.bodies) == 5
    assert kb.search_groups("export my contacts as csv")[0].group == "export"
