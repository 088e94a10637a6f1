"""`crm kb index`: bring the store and the FAISS index in line with files and CRM articles.

Only what changed is touched: an unchanged source (same content hash) is skipped, a changed
one has its chunks replaced, and a source that disappeared under an indexed folder loses its
chunks. The store commits first and the index is saved after; if the process dies between
the two, the next start sees a stale manifest and rebuilds (see `retrieval.service`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from crm_store.models import KnowledgeArticle
from retrieval import store
from retrieval.config import RetrievalSettings
from retrieval.ingest import (
    IngestError,
    SourceDoc,
    article_chunks,
    deduplicate,
    discover,
    load_file,
)
from retrieval.knowledge import MANIFEST, KnowledgeIndex

Progress = Callable[[int], None]


@dataclass
class SyncReport:
    """What one indexing run did (printed by the CLI)."""

    added_sources: int = 0
    replaced_sources: int = 0
    removed_sources: int = 0
    unchanged_sources: int = 0
    chunks_indexed: int = 0
    chunks_removed: int = 0
    errors: list[IngestError] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def collect(
    paths: list[Path], session: Session, settings: RetrievalSettings, include_crm: bool
) -> tuple[list[SourceDoc], set[str], list[IngestError]]:
    """Load every source; returns (docs with chunks, sources that vanished, errors)."""
    errors: list[IngestError] = []
    docs = []
    for path in discover(paths):
        if not path.exists():
            continue
        doc = load_file(path, settings, errors)
        if doc is not None:
            docs.append(doc)
    if include_crm:
        docs += [article_doc(art, settings) for art in store.crm_articles(session=session)]
    missing = {p for p in paths if not p.exists()}
    errors += [IngestError(str(p), "no such file or folder") for p in sorted(missing)]
    # A source that failed to load keeps its previous chunks until it is fixed or deleted.
    seen = {d.source for d in docs} | {e.source for e in errors}
    docs = [d for d in docs if d.chunks]
    roots = [p.resolve() for p in paths if p.exists() or p in missing]
    vanished = {
        src
        for src in store.source_hashes(session=session)
        if src not in seen and _under(src, roots, include_crm)
    }
    return docs, vanished, errors


def article_doc(art: KnowledgeArticle, settings: RetrievalSettings) -> SourceDoc:
    """The chunks of one CRM knowledge article, with its metadata."""
    meta = {
        "audience": art.audience,
        "language": art.language,
        "product": art.product,
        "url": art.url,
        "updated_at": art.updated_at.isoformat(),
    }
    return article_chunks(art.id, art.title, art.body, meta, settings)


def _under(source: str, roots: list[Path], include_crm: bool) -> bool:
    if source.startswith("crm:"):
        return include_crm
    resolved = Path(source).resolve()
    return any(resolved == r or r in resolved.parents for r in roots)


def sync(
    index: KnowledgeIndex,
    session: Session,
    paths: list[Path],
    include_crm: bool = False,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> SyncReport:
    """Index new and changed sources, drop vanished ones; the caller commits and saves.

    Args:
        index: the loaded index (updated in place).
        paths: files or folders; sources stored under them but now gone are removed.
        include_crm: also index the CRM's own `knowledge_articles`.
        progress: called with chunk counts as they are embedded; on_total: with the total.
    """
    report = SyncReport()
    docs, vanished, report.errors = collect(paths, session, index.settings, include_crm)
    stored = store.source_hashes(session=session)
    changed = [d for d in docs if stored.get(d.source) != d.source_hash]
    report.unchanged_sources = len(docs) - len(changed)
    replaced = {d.source for d in changed if d.source in stored}
    report.added_sources = len(changed) - len(replaced)
    report.replaced_sources = len(replaced)
    report.removed_sources = len(vanished)
    old_ids = store.chunk_ids(session=session, sources=replaced | vanished)
    report.chunks_removed = index.remove(old_ids)
    store.delete_sources(session=session, sources=replaced | vanished)
    known = store.content_hashes(session=session, exclude=replaced | vanished)
    report.duplicates = deduplicate(changed, known)
    new_chunks = []
    for doc in changed:
        new_chunks += store.insert_doc(session=session, doc=doc)
    if on_total:
        on_total(len(new_chunks))
    index.add(new_chunks, progress)
    report.chunks_indexed = len(new_chunks)
    return report


def index_paths(
    paths: list[Path],
    url: str | None = None,
    settings: RetrievalSettings | None = None,
    include_crm: bool = False,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> tuple[SyncReport, int]:
    """Sync the sources into the database at `url`, commit, then save the index files.

    The store commits before the files are written; a crash in between leaves a stale
    manifest that the next `open_index` rebuilds from the rows.

    Returns:
        The report and the number of chunks in the index afterwards.
    """
    from crm_store import db
    from retrieval.service import open_index  # the service imports this module's callers

    settings = settings or RetrievalSettings()
    with db.session_scope(url) as session:
        index = open_index(session, settings)
        report = sync(index, session, paths, include_crm, progress, on_total)
        session.flush()
    index.save(settings.index_dir)
    return report, len(index)


STAMP = "sources.sha256"


def sources_digest(paths: list[Path], url: str) -> str:
    """SHA-256 over the database URL and every source file's path and bytes."""
    digest = hashlib.sha256(url.encode())
    for path in discover(paths):
        digest.update(str(path.resolve()).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()


def ensure_indexed(
    paths: list[Path], url: str, settings: RetrievalSettings | None = None
) -> SyncReport | None:
    """Index `paths` into the database at `url` unless nothing changed since the last run.

    Why: `crm demo run` calls this at every start; loading the embedder alone takes seconds,
    so it is skipped when the files, the database URL, the store's indexed sources and the
    index files are all as the last run left them (a reset database re-indexes).

    Returns:
        The sync report, or None when the stamp showed the index already up to date.
    """
    settings = settings or RetrievalSettings()
    stamp = settings.index_dir / STAMP
    fresh = (settings.index_dir / MANIFEST).exists() and stamp.exists()
    if fresh and stamp.read_text().strip() == _stamp(paths, url):
        return None
    report, _ = index_paths(paths, url, settings)
    stamp.write_text(_stamp(paths, url) + "\n")
    return report


def _stamp(paths: list[Path], url: str) -> str:
    from crm_store import db

    with db.session_scope(url) as session:
        stored = sorted(store.source_hashes(session=session).items())
    return hashlib.sha256(f"{sources_digest(paths, url)}{stored}".encode()).hexdigest()
