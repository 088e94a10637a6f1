"""`crm gdpr delete` reaches the knowledge index: chunks quoting the email go or are re-indexed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from crm_store import db
from crm_store.demo import DEMO_CREDENTIALS as CREDS
from crm_store.models import KnowledgeArticle, KnowledgeChunk
from retrieval import store
from retrieval.config import RetrievalSettings
from retrieval.embedder import load_embedder
from retrieval.knowledge import KnowledgeIndex
from retrieval.privacy import forget_person
from retrieval.sync import index_paths

EMAIL = CREDS.customer_email


def test_delete_reindexes_articles_and_drops_file_chunks(
    seeded_db_url: str, tmp_path: Path
) -> None:
    settings = RetrievalSettings().with_(index_path=tmp_path / "index")
    docs = tmp_path / "kb"
    docs.mkdir()
    (docs / "vip.md").write_text(f"# VIP customers\nEscalate anything from {EMAIL} at once.\n")
    (docs / "reset.md").write_text("# Reset your password\nOpen Settings, then Security.\n")
    with db.session_scope(seeded_db_url) as session:
        session.add(KnowledgeArticle(
            title="Refund exceptions", audience="internal",
            body=f"# Refund exceptions\nRefunds after 30 days were approved for {EMAIL} only.\n",
        ))  # fmt: skip
    index_paths([docs], seeded_db_url, settings, include_crm=True)

    report, knowledge = forget_person(EMAIL, seeded_db_url, settings)

    assert report.changed["contacts anonymised"] == 1
    assert knowledge.articles_reindexed == 1 and knowledge.chunks_added >= 1
    assert knowledge.chunks_removed >= 2  # the file's chunk and the article's old chunk
    assert knowledge.files_to_edit == [str((docs / "vip.md").resolve())]
    with db.session_scope(seeded_db_url) as session:
        texts = [c.text for c in session.scalars(select(KnowledgeChunk))]
        assert texts and not any(EMAIL in t for t in texts)
        article = session.scalar(select(KnowledgeArticle))
        assert article is not None and "approved for [email] only" in article.body
        # the saved index matches the rows (no stale manifest) and holds no chunk with the email
        index = KnowledgeIndex.load(
            settings.index_dir,
            store.load_chunks(session=session),
            load_embedder(settings),
            settings,
        )
    assert not any(EMAIL in c.text for c in index.chunks.values())
    assert any("approved for [email]" in c.text for c in index.chunks.values())
    assert not any("Escalate anything" in c.text for c in index.chunks.values())
    assert any("Security" in c.text for c in index.chunks.values())  # other sources untouched
    # a second run has nothing left to do
    again, knowledge_again = forget_person(EMAIL, seeded_db_url, settings)
    assert again.nothing_found and knowledge_again.chunks_removed == 0
