"""The knowledge index: chunks + two FAISS views (questions, bodies) + BM25, updated in place.

Chunk ids are the CRM store's row ids (or any stable ints for in-memory use such as the
evaluation), so FAISS results map straight back to rows. Question-view vector ids are
`chunk_id * KEY_SLOTS + j`, so one chunk can carry several phrasings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from retrieval.config import RetrievalSettings
from retrieval.embedder import Embedder
from retrieval.lexical import BM25Index
from retrieval.scoring import FusionWeights, GroupScore, fuse
from retrieval.types import Audience, Chunk
from retrieval.vector_index import VectorIndex

KEY_SLOTS = 64  # a chunk keeps at most KEY_SLOTS - 1 extra phrasings
MANIFEST = "manifest.json"

Progress = Callable[[int], None]


def visible(audience: Audience | str) -> frozenset[Audience]:
    """Return the chunk audiences a reader may see: customers only `public`."""
    if Audience(audience) is Audience.internal:
        return frozenset({Audience.public, Audience.internal})
    return frozenset({Audience.public})


class KnowledgeIndex:
    """Search over chunks; add, replace and remove touch only the given chunks."""

    def __init__(
        self,
        embedder: Embedder,
        settings: RetrievalSettings | None = None,
        weights: FusionWeights | None = None,
        kind: str | None = None,
    ) -> None:
        self.settings = settings or RetrievalSettings()
        self.embedder = embedder
        self.weights = weights or FusionWeights()
        self.kind = kind or "flat"
        self.chunks: dict[int, Chunk] = {}
        self.bodies = VectorIndex(embedder.dim, self.kind, self.settings.threads)
        self.keys = VectorIndex(embedder.dim, self.kind, self.settings.threads)
        self.bm25 = BM25Index()

    def __len__(self) -> int:
        return len(self.chunks)

    def add(self, chunks: list[Chunk], progress: Progress | None = None) -> None:
        """Embed and index chunks (each must have an `id`); existing ids are replaced.

        Args:
            chunks: chunks with ids assigned (store row ids).
            progress: called with the number of chunks just embedded, batch by batch.
        """
        step = max(self.settings.batch_size * 4, 1)
        for start in range(0, len(chunks), step):
            batch = chunks[start : start + step]
            self._add_batch(batch)
            if progress:
                progress(len(batch))
        self._maybe_switch_kind()

    def _add_batch(self, batch: list[Chunk]) -> None:
        ids = np.array([c.id for c in batch], dtype=np.int64)
        if (ids < 0).any() or len(set(ids.tolist())) != len(ids):
            raise ValueError("chunk ids must be unique non-negative integers")
        self.remove(ids)
        key_ids, key_texts = [], []
        for c in batch:
            for j, text in enumerate(c.keys()[:KEY_SLOTS]):
                key_ids.append(c.id * KEY_SLOTS + j)
                key_texts.append(text)
        # Windows of one section share their title/heading key: embed each distinct text once.
        unique = list(dict.fromkeys(key_texts))
        vectors = self.embedder.encode([c.body() for c in batch] + unique)
        self.bodies.add(ids, vectors[: len(batch)])
        row = {text: len(batch) + n for n, text in enumerate(unique)}
        self.keys.add(np.array(key_ids, dtype=np.int64), vectors[[row[t] for t in key_texts]])
        for c in batch:
            self.chunks[int(c.id)] = c
            self.bm25.add(int(c.id), c.body())

    def remove(self, ids: Iterable[int]) -> int:
        """Remove chunks by id from every view. Returns how many chunks were known."""
        ids = np.array([i for i in ids if int(i) in self.chunks], dtype=np.int64)
        if len(ids) == 0:
            return 0
        key_ids = (ids[:, None] * KEY_SLOTS + np.arange(KEY_SLOTS)[None, :]).ravel()
        self.bodies.remove(ids)
        self.keys.remove(key_ids)
        for i in ids.tolist():
            self.bm25.remove(i)
            del self.chunks[i]
        return len(ids)

    def _maybe_switch_kind(self) -> None:
        wanted = "hnsw" if len(self.bodies) > self.settings.approx_threshold else "flat"
        if wanted == self.kind:
            return
        for name in ("bodies", "keys"):
            old: VectorIndex = getattr(self, name)
            ids = old.ids()
            new = VectorIndex(old.dim, wanted, self.settings.threads)
            new.add(ids, old.vectors(ids))
            setattr(self, name, new)
        self.kind = wanted

    def search_groups(
        self,
        query: str,
        audience: Audience | str = Audience.public,
        vector: np.ndarray | None = None,
    ) -> list[GroupScore]:
        """Score the groups the audience may see, best first (empty index: empty list).

        Args:
            query: the user's text (already validated by the caller).
            audience: `public` never sees `internal` chunks.
            vector: the query embedding when the caller already has it.
        """
        if not self.chunks:
            return []
        allowed = visible(audience)
        qv = self.embedder.encode([query]) if vector is None else vector.reshape(1, -1)
        c = self.settings.candidates
        # Over-fetch so that filtering out internal chunks still leaves enough candidates.
        fetch = c * 4 if len(allowed) == 1 else c
        ks, ki = self.keys.search(qv, fetch * 2)
        bs, bi = self.bodies.search(qv, fetch)
        ok = self._allowed_filter(allowed)
        key_hits = [
            (int(i) // KEY_SLOTS, float(s))
            for s, i in zip(ks[0], ki[0], strict=True)
            if i >= 0 and ok(int(i) // KEY_SLOTS)
        ]
        body_hits = [
            (int(i), float(s)) for s, i in zip(bs[0], bi[0], strict=True) if i >= 0 and ok(int(i))
        ]
        lex_hits = []
        if self.weights.lexical > 0:
            lex_hits = [(i, s) for i, s in self.bm25.search(query, fetch) if ok(i)]
        return fuse(key_hits, body_hits, lex_hits, self._group_of, self.weights)

    def _allowed_filter(self, allowed: frozenset[Audience]) -> Callable[[int], bool]:
        def ok(chunk_id: int) -> bool:
            chunk = self.chunks.get(chunk_id)
            return chunk is not None and Audience(chunk.audience) in allowed

        return ok

    def _group_of(self, chunk_id: int) -> str:
        return self.chunks[chunk_id].group

    def save(self, folder: Path, fingerprint: str = "") -> None:
        """Persist both FAISS views and a manifest (the chunks themselves live in the store)."""
        folder.mkdir(parents=True, exist_ok=True)
        self.bodies.save(folder / "bodies.faiss")
        self.keys.save(folder / "keys.faiss")
        manifest = {
            "kind": self.kind,
            "chunks": len(self.chunks),
            "ids_sha256": ids_digest(self.chunks),
            "fingerprint": fingerprint,
            "created_at": datetime.now(UTC).isoformat(),
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))

    @classmethod
    def load(
        cls,
        folder: Path,
        chunks: dict[int, Chunk],
        embedder: Embedder,
        settings: RetrievalSettings | None = None,
        weights: FusionWeights | None = None,
    ) -> KnowledgeIndex:
        """Load persisted views for the given chunk rows.

        Raises:
            StaleIndexError: the files are missing or were built for other chunk rows.
        """
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            raise StaleIndexError(f"no readable index manifest in {folder}") from exc
        if manifest.get("ids_sha256") != ids_digest(chunks):
            raise StaleIndexError("the index does not match the chunk rows in the store")
        obj = cls(embedder, settings, weights, kind=manifest["kind"])
        try:
            threads = obj.settings.threads
            obj.bodies = VectorIndex.load(folder / "bodies.faiss", obj.kind, threads)
            obj.keys = VectorIndex.load(folder / "keys.faiss", obj.kind, threads)
        except (FileNotFoundError, RuntimeError) as exc:
            raise StaleIndexError(str(exc)) from exc
        obj.chunks = dict(chunks)
        for chunk_id, chunk in chunks.items():
            obj.bm25.add(chunk_id, chunk.body())
        return obj


class StaleIndexError(RuntimeError):
    """The persisted index is missing or does not match the store; rebuild it."""


def ids_digest(chunks: dict[int, Chunk]) -> str:
    """Fingerprint of the chunk ids and contents, to detect a stale index at start-up."""
    digest = hashlib.sha256()
    for chunk_id in sorted(chunks):
        digest.update(f"{chunk_id}:{chunks[chunk_id].content_hash};".encode())
    return digest.hexdigest()
