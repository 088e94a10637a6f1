"""Chunk rows in the CRM store (`crm_store.models.KnowledgeChunk`) <-> `Chunk` objects."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm_store.models import KnowledgeArticle, KnowledgeChunk
from retrieval.ingest import SourceDoc
from retrieval.types import Audience, Chunk


def to_chunk(row: KnowledgeChunk) -> Chunk:
    """Map a stored row to the retrieval `Chunk` (id = row id = vector id)."""
    return Chunk(
        source=row.source,
        ordinal=row.ordinal,
        group=row.group_key,
        title=row.title,
        text=row.text,
        heading=row.heading,
        url=row.url,
        audience=Audience(row.audience),
        language=row.language,
        product=row.product,
        updated_at=row.updated_at,
        questions=list(row.questions or []),
        content_hash=row.content_hash,
        id=row.id,
    )


def load_chunks(*, session: Session) -> dict[int, Chunk]:
    """Every stored chunk by id."""
    rows = session.scalars(select(KnowledgeChunk).order_by(KnowledgeChunk.id))
    return {row.id: to_chunk(row) for row in rows}


def source_hashes(*, session: Session) -> dict[str, str]:
    """source -> source_hash of every indexed source (to skip unchanged files)."""
    rows = session.execute(select(KnowledgeChunk.source, KnowledgeChunk.source_hash).distinct())
    return {source: digest for source, digest in rows}


def content_hashes(*, session: Session, exclude: set[str]) -> dict[str, str]:
    """content_hash -> source for chunks of sources not in `exclude` (for de-duplication)."""
    rows = session.execute(select(KnowledgeChunk.content_hash, KnowledgeChunk.source))
    return {digest: source for digest, source in rows if source not in exclude}


def chunk_ids(*, session: Session, sources: set[str]) -> list[int]:
    """Ids of the chunks that belong to the given sources."""
    if not sources:
        return []
    stmt = select(KnowledgeChunk.id).where(KnowledgeChunk.source.in_(sorted(sources)))
    return list(session.scalars(stmt))


def delete_sources(*, session: Session, sources: set[str]) -> None:
    """Delete every chunk row of the given sources."""
    if sources:
        session.execute(delete(KnowledgeChunk).where(KnowledgeChunk.source.in_(sorted(sources))))


def insert_doc(*, session: Session, doc: SourceDoc) -> list[Chunk]:
    """Insert the chunks of one source; returns them with their new row ids."""
    rows = [
        KnowledgeChunk(
            source=doc.source,
            source_hash=doc.source_hash,
            ordinal=c.ordinal,
            group_key=c.group,
            title=c.title[:500],
            heading=c.heading[:500],
            text=c.text,
            url=c.url[:1000],
            audience=str(c.audience),
            language=c.language[:10],
            product=c.product[:100],
            updated_at=c.updated_at,
            content_hash=c.content_hash,
            questions=list(c.questions),
        )
        for c in doc.chunks
    ]
    session.add_all(rows)
    session.flush()
    return [to_chunk(row) for row in rows]


def crm_articles(*, session: Session) -> list[KnowledgeArticle]:
    """The CRM's own knowledge articles, oldest first."""
    return list(session.scalars(select(KnowledgeArticle).order_by(KnowledgeArticle.id)))
