"""Erase a person from the knowledge base too: chunks that quote their email.

The store's part of an erasure is `crm_store.gdpr.erase_person`; this module runs it with
the index's part in one transaction, because the order matters: knowledge chunks must be
found (by their text) before the store-wide scrub masks that text, and the FAISS index must
drop their vectors, or a running bot would keep citing them. A CRM article that quoted the
email is masked and re-indexed; a chunk from a file is removed from the index and the store,
and the file is reported, since only its owner can edit it (re-indexing the unchanged file
would bring the chunk back).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from crm_store import db
from crm_store.gdpr import ErasureReport, erase_person, mask_text, normalise_email
from crm_store.models import KnowledgeArticle, KnowledgeChunk
from retrieval import store
from retrieval.config import RetrievalSettings
from retrieval.knowledge import KnowledgeIndex
from retrieval.sync import article_doc

ARTICLE_PREFIX = "crm:article/"


@dataclass
class KnowledgeErasure:
    """What the knowledge base lost: re-indexed articles, removed chunks, files to edit."""

    articles_reindexed: int = 0
    chunks_removed: int = 0
    chunks_added: int = 0
    files_to_edit: list[str] = field(default_factory=list)


def chunks_mentioning(*, session: Session, needle: str) -> list[KnowledgeChunk]:
    """Chunk rows whose title, heading, text or questions contain `needle` (any case)."""
    lowered = needle.lower()
    columns = [KnowledgeChunk.title, KnowledgeChunk.heading, KnowledgeChunk.text]
    condition = or_(
        *(func.lower(c).contains(lowered) for c in columns),
        func.lower(cast(KnowledgeChunk.questions, Text)).contains(lowered),
    )
    return list(session.scalars(select(KnowledgeChunk).where(condition)))


def forget_in_index(
    *, session: Session, index: KnowledgeIndex, email: str, settings: RetrievalSettings
) -> KnowledgeErasure:
    """Drop or re-index the chunks quoting `email`; the caller commits, then saves the index."""
    rows = chunks_mentioning(session=session, needle=email)
    report = KnowledgeErasure()
    sources = {row.source for row in rows}
    articles = sorted(s for s in sources if s.startswith(ARTICLE_PREFIX))
    report.files_to_edit = sorted(sources - set(articles))
    file_chunk_ids = [row.id for row in rows if not row.source.startswith(ARTICLE_PREFIX)]
    report.chunks_removed += index.remove(file_chunk_ids)
    for row in rows:
        if not row.source.startswith(ARTICLE_PREFIX):
            session.delete(row)
    for source in articles:
        _reindex_article(session, index, source, email, settings, report)
    session.flush()
    return report


def _reindex_article(
    session: Session,
    index: KnowledgeIndex,
    source: str,
    email: str,
    settings: RetrievalSettings,
    report: KnowledgeErasure,
) -> None:
    """Mask the email in the article, then replace its chunks in the store and the index."""
    article = session.get(KnowledgeArticle, int(source.removeprefix(ARTICLE_PREFIX)))
    report.chunks_removed += index.remove(store.chunk_ids(session=session, sources={source}))
    store.delete_sources(session=session, sources={source})
    if article is None:  # chunks of a deleted article: removing them is enough
        return
    article.title, article.body = mask_text(article.title, email), mask_text(article.body, email)
    session.flush()  # updated_at moves, so the source hash changes with the text
    chunks = store.insert_doc(session=session, doc=article_doc(article, settings))
    index.add(chunks)
    report.chunks_added += len(chunks)
    report.articles_reindexed += 1


def forget_person(
    email: str,
    url: str | None = None,
    settings: RetrievalSettings | None = None,
    tracker_url: str | None = None,
) -> tuple[ErasureReport, KnowledgeErasure]:
    """Erase the person from the store and the knowledge index (`crm gdpr delete`).

    The index is opened (which loads the embedder) only when a chunk quotes the email.
    The store commits first and the index files are saved after; if the process dies in
    between, the next start finds a stale manifest and rebuilds the index from the rows,
    which no longer hold the email.

    Args:
        email: The person's address.
        url: The CRM store (default `CRM_DATABASE_URL`).
        settings: Where the index lives.
        tracker_url: Rasa's SQL tracker store, erased too when given.

    Returns:
        The store's report and the knowledge base's.
    """
    from retrieval.service import open_index  # loads torch: only when needed

    email = normalise_email(email)
    settings = settings or RetrievalSettings()
    index = None
    with db.session_scope(url) as session:
        knowledge = KnowledgeErasure()
        if chunks_mentioning(session=session, needle=email):
            index = open_index(session, settings)
            knowledge = forget_in_index(
                session=session, index=index, email=email, settings=settings
            )
        report = erase_person(session=session, email=email, tracker_url=tracker_url)
    if index is not None:
        index.save(settings.index_dir)
    return report, knowledge
