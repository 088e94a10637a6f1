"""Knowledge base rows: the CRM's own articles and the searchable chunks of every source.

`KnowledgeChunk.id` is also the vector id in the FAISS index under var/ (the retrieval
service keeps the two in step), so a search hit maps straight back to its row and citation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_store.models.base import Base, UTCDateTime, utcnow


class KnowledgeArticle(Base):
    """An article written inside the CRM (help text, policy, playbook)."""

    __tablename__ = "knowledge_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # Markdown; headings become chunk boundaries
    audience: Mapped[str] = mapped_column(String(20), default="public")  # public | internal
    language: Mapped[str] = mapped_column(String(10), default="en")
    product: Mapped[str] = mapped_column(String(100), default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class KnowledgeChunk(Base):
    """One indexed piece of a document, with everything an answer needs to cite it."""

    __tablename__ = "knowledge_chunks"
    __table_args__ = (
        UniqueConstraint("source", "ordinal", name="uq_knowledge_chunks_source_ordinal"),
        Index("ix_knowledge_chunks_content_hash", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable document key: file path, "crm:article/<id>", or "<csv path>#<row>".
    source: Mapped[str] = mapped_column(String(1000))
    # Hash of the whole source file/article: unchanged sources are skipped on re-index.
    source_hash: Mapped[str] = mapped_column(String(64))
    ordinal: Mapped[int] = mapped_column(Integer)
    group_key: Mapped[str] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(String(500))
    heading: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(1000), default="")
    audience: Mapped[str] = mapped_column(String(20), default="public")
    language: Mapped[str] = mapped_column(String(10), default="en")
    product: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(String(64))
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
