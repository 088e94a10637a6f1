"""The retrieval service the bot calls: `answer(query, audience="public") -> Answer`.

It never raises on user input and never crashes mid-conversation: a bad query gets a polite
refusal, and a missing or stale index is rebuilt from the store's chunk rows at start-up
(or reported by `crm kb index`). Customers (`public`) never see `internal` chunks.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata

from sqlalchemy.orm import Session

from crm_store import db
from retrieval import store
from retrieval.calibration import Calibrator, features
from retrieval.config import RetrievalSettings
from retrieval.embedder import load_embedder
from retrieval.knowledge import MANIFEST, KnowledgeIndex, StaleIndexError
from retrieval.types import Answer, Audience, Hit

log = logging.getLogger(__name__)

DONT_KNOW = "I don't know the answer to that. Would you like me to pass your question to a person?"
EMPTY = "Please type a question and I'll look it up."
TOO_LONG = "That message is too long for me to search; please ask in a sentence or two."
SNIPPET_CHARS = 600


class QueryError(ValueError):
    """The query cannot be searched (empty, too long); the message is safe to show."""


def clean_query(query: object, settings: RetrievalSettings) -> str:
    """Normalise whitespace and control characters; raise QueryError when unusable."""
    if not isinstance(query, str):
        raise QueryError(EMPTY)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in query)
    text = " ".join(text.split())
    if not text:
        raise QueryError(EMPTY)
    if len(text) > settings.max_query_chars:
        raise QueryError(TOO_LONG)
    return text


def open_index(session: Session, settings: RetrievalSettings) -> KnowledgeIndex:
    """Load the persisted index for the store's chunks, rebuilding it when missing or stale."""
    embedder = load_embedder(settings)
    chunks = store.load_chunks(session=session)
    try:
        return KnowledgeIndex.load(settings.index_dir, chunks, embedder, settings)
    except StaleIndexError as exc:
        log.warning(
            "knowledge index %s (%s); rebuilding from %d chunks",
            settings.index_dir,
            exc,
            len(chunks),
        )
    index = KnowledgeIndex(embedder, settings)
    index.add(list(chunks.values()))
    index.save(settings.index_dir)
    return index


class KnowledgeService:
    """Search and answer over one loaded index; safe to share between threads."""

    def __init__(self, index: KnowledgeIndex, calibrator: Calibrator | None = None) -> None:
        self.index = index
        self.calibrator = calibrator or Calibrator.load()
        self.stamp: float | None = None  # manifest mtime this index was loaded from
        self._lock = threading.Lock()  # FAISS search is thread-safe; updates are not

    def search(self, query: str, k: int = 5, audience: str = "public") -> list[Hit]:
        """Return the best k groups the audience may see, each as its best chunk (cited).

        Raises:
            QueryError: empty or over-long query (message fit for the user).
        """
        text = clean_query(query, self.index.settings)
        with self._lock:
            groups = self.index.search_groups(text, Audience(audience))
        return [self._hit(g.best_chunk, g.score) for g in groups[:k]]

    def answer(self, query: str, audience: str = "public") -> Answer:
        """Answer from the knowledge base, or say honestly that we don't know.

        Returns:
            Answer whose `confidence` is the calibrated probability that the top source
            answers the question; `abstained` is True below the trained threshold, and then
            `text` is a polite "I don't know" (citations still list the nearest sources).
        """
        try:
            text = clean_query(query, self.index.settings)
        except QueryError as exc:
            return Answer(str(exc), 0.0, True, [])
        with self._lock:
            groups = self.index.search_groups(text, Audience(audience))
            conf = self.calibrator.confidence(features(text, groups, self.index.chunks))
        hits = [self._hit(g.best_chunk, g.score) for g in groups[:3]]
        if not hits or self.calibrator.abstains(conf):
            return Answer(DONT_KNOW, conf, True, hits)
        return Answer(self._reply(hits[0]), conf, False, hits)

    def _hit(self, chunk_id: int, score: float) -> Hit:
        c = self.index.chunks[chunk_id]
        return Hit(
            chunk_id, round(float(score), 4), c.title, c.url, c.text, c.group, str(c.audience)
        )

    @staticmethod
    def _reply(hit: Hit) -> str:
        source = f"{hit.title} ({hit.url})" if hit.url else hit.title
        return f"{snippet(hit)}\n\nSource: {source}"


def snippet(hit: Hit) -> str:
    """The cited chunk's text, cut at SNIPPET_CHARS so a chat reply stays readable.

    Hard-wrapped source lines are joined (a chat bubble wraps by itself); blank-line
    paragraph breaks are kept.
    """
    text = re.sub(r"(?<!\n)\n(?!\n)", " ", hit.text.strip())
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS] + "…"


_service: KnowledgeService | None = None
_service_lock = threading.Lock()


def get_service(
    url: str | None = None, settings: RetrievalSettings | None = None
) -> KnowledgeService:
    """The process-wide service, loaded on first use from `CRM_DATABASE_URL` and var/.

    When `crm kb index` (another process) rewrites the index manifest, the next call
    reloads, so a running bot picks up new articles without a restart.
    """
    global _service
    settings = settings or RetrievalSettings()
    with _service_lock:
        stamp = _manifest_stamp(settings)
        if _service is None or (stamp is not None and stamp != _service.stamp):
            with db.session_scope(url) as session:
                _service = KnowledgeService(open_index(session, settings))
            _service.stamp = _manifest_stamp(settings)
        return _service


def _manifest_stamp(settings: RetrievalSettings) -> float | None:
    try:
        return (settings.index_dir / MANIFEST).stat().st_mtime
    except OSError:
        return None


def reset_service() -> None:
    """Forget the cached service (after re-indexing in the same process, and in tests)."""
    global _service
    with _service_lock:
        _service = None


def answer(query: str, audience: str = "public") -> Answer:
    """Answer a question for the bot; never raises (store or index trouble -> "don't know")."""
    try:
        return get_service().answer(query, audience)
    except Exception:  # a broken index must not end the conversation; the log says why
        log.exception("knowledge answer failed")
        return Answer(DONT_KNOW, 0.0, True, [])


def search(query: str, k: int = 5, audience: str = "public") -> list[Hit]:
    """Search for the CLI and staff tools (raises QueryError on an unusable query)."""
    return get_service().search(query, k, audience)
