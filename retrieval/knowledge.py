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
from retrieval.late import TokenStore
from retrieval.lexical import BM25Index
from retrieval.scoring import LATE_GROUPS, FusionWeights, GroupScore, fuse, rerank_late
from retrieval.types import Audience, Chunk
from retrieval.vector_index import VectorIndex

KEY_SLOTS = 64  # a chunk keeps at most KEY_SLOTS - 1 extra phrasings
MANIFEST = "manifest.json"
TOKENS = "tokens.npz"

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
        # Token vectors for late interaction: only when the weight is on, the embedder gives
        # token vectors, and the index stays small (see `retrieval.late` for the memory cost).
        late_ok = self.weights.late > 0 and hasattr(embedder, "encode_with_tokens")
        self.tokens: TokenStore | None = TokenStore() if late_ok else None

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
        if self.tokens is not None and len(self.chunks) + len(batch) > self._late_max():
            self.tokens = None  # too big to keep token vectors: dense fusion alone from now on
        if self.tokens is not None:
            body_vecs, body_tokens = self.embedder.encode_with_tokens([c.body() for c in batch])  # type: ignore[attr-defined]
            vectors = np.vstack([body_vecs, self.embedder.encode(unique)])
            for c, rows in zip(batch, body_tokens, strict=True):
                self.tokens.add(int(c.id), rows)
        else:
            vectors = self.embedder.encode([c.body() for c in batch] + unique)
        self.bodies.add(ids, vectors[: len(batch)])
        row = {text: len(batch) + n for n, text in enumerate(unique)}
        self.keys.add(np.array(key_ids, dtype=np.int64), vectors[[row[t] for t in key_texts]])
        for c in batch:
            self.chunks[int(c.id)] = c
            self.bm25.add(int(c.id), c.body())

    def _late_max(self) -> int:
        return self.settings.late_max_chunks

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
            if self.tokens is not None:
                self.tokens.remove(i)
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

    @property
    def late_active(self) -> bool:
        """True when the top groups are re-ranked by MaxSim over token vectors."""
        return self.tokens is not None and self.weights.late > 0

    def embed_query(self, query: str) -> tuple[np.ndarray, np.ndarray | None]:
        """The query's sentence vector and, when late interaction is on, its token vectors."""
        if self.late_active:
            vecs, tokens = self.embedder.encode_with_tokens([query])  # type: ignore[attr-defined]
            return vecs, tokens[0]
        return self.embedder.encode([query]), None

    def search_groups(
        self,
        query: str,
        audience: Audience | str = Audience.public,
        vector: np.ndarray | None = None,
        tokens: np.ndarray | None = None,
    ) -> list[GroupScore]:
        """Score the groups the audience may see, best first (empty index: empty list).

        Args:
            query: the user's text (already validated by the caller).
            audience: `public` never sees `internal` chunks.
            vector: the query embedding when the caller already has it (`embed_query`).
            tokens: the query's token vectors from the same call; needed for the late
                re-rank (without them, and with a vector given, the dense ranking is returned).
        """
        if not self.chunks:
            return []
        allowed = visible(audience)
        if vector is None:
            vector, tokens = self.embed_query(query)
        qv = vector.reshape(1, -1)
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
        groups = fuse(key_hits, body_hits, lex_hits, self._group_of, self.weights)
        if tokens is None or not self.late_active:
            return groups
        return self._rerank(groups, body_hits, tokens)

    def _rerank(
        self, groups: list[GroupScore], body_hits: list[tuple[int, float]], tokens: np.ndarray
    ) -> list[GroupScore]:
        # A group's MaxSim is the best over its chunks among the retrieved bodies (and the
        # cited chunk): scoring every chunk of a long article measured the same on StackFAQ.
        store = self.tokens
        assert store is not None
        top = groups[:LATE_GROUPS]
        wanted = {g.group for g in top}
        cands: dict[str, list[int]] = {g.group: [g.best_chunk] for g in top}
        for chunk_id, _ in body_hits:
            group = self._group_of(chunk_id)
            if group in wanted:
                cands[group].append(chunk_id)
        scores = store.score_many(tokens, [c for ids in cands.values() for c in ids])

        def late_of(g: GroupScore) -> float | None:
            known = [scores[c] for c in cands.get(g.group, []) if c in scores]
            return max(known) if known else None

        return rerank_late(groups, late_of, self.weights.late)

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
        if self.tokens is not None:
            self.tokens.save(folder / TOKENS)
        manifest = {
            "kind": self.kind,
            "late": self.tokens is not None,
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
        if obj.tokens is not None and len(chunks) > obj._late_max():
            obj.tokens = None
        elif obj.tokens is not None:
            if not manifest.get("late"):
                raise StaleIndexError("the index was saved without token vectors")
            try:
                obj.tokens = TokenStore.load(folder / TOKENS)
            except (OSError, ValueError, KeyError) as exc:
                raise StaleIndexError(f"unreadable token vectors: {exc}") from exc
            if set(obj.tokens.rows) != set(chunks):
                raise StaleIndexError("the token vectors do not match the chunk rows")
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
