"""Retrieval settings: defaults merged with `CRM_RETRIEVAL_*` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Measured in docs/benchmarks.md ("Retrieval"): exact flat search stays inside the 25 ms
# budget (embedding included) up to about this many vectors; above it HNSW takes over.
APPROX_THRESHOLD_DEFAULT = 60_000
# Token vectors for the MaxSim re-rank are kept up to this many chunks (~280 MB of float16
# at 800 characters per chunk); a help centre fits, a 100k-chunk index does not.
LATE_MAX_CHUNKS_DEFAULT = 2_000


def _env(name: str, default: str) -> str:
    return os.environ.get(f"CRM_RETRIEVAL_{name}", default).strip() or default


def _optional_path(name: str) -> Path | None:
    value = os.environ.get(f"CRM_RETRIEVAL_{name}", "").strip()
    return Path(value) if value else None


@dataclass(frozen=True)
class RetrievalSettings:
    """Every tunable of the retrieval service, with the default that was measured.

    Attributes:
        var_dir: where indexes, the ONNX export and manifests live.
        backend: "onnx" (fast queries, no torch at query time) or "torch".
        threads: intra-op threads for batch embedding and index builds (2 cores here).
        query_threads: threads for embedding and searching one query (1 measured fastest).
        batch_size: texts per embedding batch while indexing.
        approx_threshold: vector count above which an HNSW index replaces exact search.
        candidates: dense and lexical candidates fetched before group fusion.
        max_query_chars: longer queries are refused with a clear message.
        chunk_chars: target chunk size in characters; chunk_overlap: characters repeated.
        index_path: index folder (default `var_dir/retrieval/index`).
        late_max_chunks: above this many chunks the index keeps no token vectors and skips
            the MaxSim re-rank (memory: ~140 KB per 800-character chunk, `retrieval.late`).
    """

    var_dir: Path = field(default_factory=lambda: Path(_env("VAR_DIR", str(REPO_ROOT / "var"))))
    backend: str = field(default_factory=lambda: _env("BACKEND", "onnx"))
    threads: int = field(default_factory=lambda: int(_env("THREADS", "2")))
    query_threads: int = field(default_factory=lambda: int(_env("QUERY_THREADS", "1")))
    batch_size: int = field(default_factory=lambda: int(_env("BATCH_SIZE", "64")))
    approx_threshold: int = field(
        default_factory=lambda: int(_env("APPROX_THRESHOLD", str(APPROX_THRESHOLD_DEFAULT)))
    )
    candidates: int = 50
    max_query_chars: int = 2_000
    chunk_chars: int = 800
    chunk_overlap: int = 120
    index_path: Path | None = field(default_factory=lambda: _optional_path("INDEX_DIR"))
    late_max_chunks: int = field(
        default_factory=lambda: int(_env("LATE_MAX_CHUNKS", str(LATE_MAX_CHUNKS_DEFAULT)))
    )

    @property
    def index_dir(self) -> Path:
        """Folder of the persisted knowledge index (FAISS files + manifest)."""
        return self.index_path or self.var_dir / "retrieval" / "index"

    def with_(self, **changes: object) -> RetrievalSettings:
        """Return a copy with some fields changed (tests and the CLI use this)."""
        return replace(self, **changes)
