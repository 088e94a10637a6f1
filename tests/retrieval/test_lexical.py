"""BM25: literal matches rank first, updates and removals are incremental."""

from __future__ import annotations

from retrieval.lexical import BM25Index, tokenize


def test_tokenize_keeps_codes_and_drops_stopwords() -> None:
    assert tokenize("How do I fix error E-1042 in v2.3?") == ["fix", "error", "e-1042", "v2.3"]


def test_rare_literal_term_ranks_its_document_first() -> None:
    bm = BM25Index()
    bm.add(1, "Reset your password from the security page")
    bm.add(2, "Error E-1042 means the sync token expired")
    bm.add(3, "Passwords must have twelve characters")
    assert bm.search("what is E-1042", 3)[0][0] == 2


def test_replace_and_remove() -> None:
    bm = BM25Index()
    bm.add(1, "alpha beta")
    bm.add(2, "gamma")
    bm.add(1, "delta")  # replaces the old text of doc 1
    assert bm.search("alpha", 5) == []
    assert bm.search("delta", 5)[0][0] == 1
    bm.remove(1)
    assert bm.search("delta", 5) == [] and len(bm) == 1
