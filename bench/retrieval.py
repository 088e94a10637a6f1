"""Retrieval benchmarks on generated text: query latency by index size and kind, indexing
throughput, and ONNX-vs-torch equality. Every figure is printed as one JSON line per part.

    .venv/bin/python bench/retrieval.py latency --sizes 10000 50000 100000 --queries 200
    .venv/bin/python bench/retrieval.py throughput --chunks 1000
    .venv/bin/python bench/retrieval.py equality
    .venv/bin/python bench/retrieval.py reference   # regenerate the test's torch vectors

Latency: the index holds N chunks whose vectors are random unit vectors (search cost does
not depend on what the vectors mean, and random vectors are the hard case for HNSW), and
each timed query is embedded for real with the configured backend, then searched in both
views and fused: the exact path `retrieval.service` runs, minus the calibrator (~10 µs).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# `retrieval` package; put the repository root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import numpy as np  # noqa: E402

from retrieval.config import RetrievalSettings  # noqa: E402
from retrieval.embedder import DIM, load_embedder  # noqa: E402
from retrieval.knowledge import KEY_SLOTS, KnowledgeIndex  # noqa: E402
from retrieval.types import Chunk  # noqa: E402
from retrieval.vector_index import VectorIndex  # noqa: E402

WORDS_TEXT = (
    "account invoice billing password reset export contact deal pipeline report dashboard "
    "email calendar sync mobile app login security admin role permission team workspace "
    "import csv field custom integration slack webhook api token plan upgrade refund trial "
    "order shipping delivery ticket support agent priority status note task reminder "
    "quote discount approval renewal subscription usage limit storage backup restore"
)
WORDS = WORDS_TEXT.split(" ")
QUERIES = [
    "how do I reset my password",
    "where can I download last month's invoice",
    "export all contacts to a csv file",
    "can a rep give a discount without approval",
    "why did my calendar stop syncing",
    "how to add a teammate to the workspace",
    "what is the refund policy for annual plans",
    "connect slack notifications to deals",
]


def generated_text(rng: random.Random, chars: int) -> str:
    """A help-article-like paragraph of about `chars` characters from a CRM vocabulary."""
    words, size = [], 0
    while size < chars:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize()
        words.append(sentence + ".")
        size += len(sentence) + 2
    return " ".join(words)


def _unit(rng: np.random.Generator, n: int, base: np.ndarray | None = None) -> np.ndarray:
    """n unit vectors: random, or real MiniLM vectors plus noise (cosine ~0.8 to their seed).

    Uniform random vectors have no neighbourhood structure, which makes every approximate
    index look bad; perturbed real embeddings cluster like a real knowledge base does.
    """
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    if base is not None:
        x = base[rng.integers(0, len(base), n)] + 0.038 * x
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def real_vectors(settings: RetrievalSettings) -> np.ndarray | None:
    """MiniLM vectors cached by `crm retrieval calibrate` (StackFAQ + CLINC texts), if any."""
    caches = sorted((settings.var_dir / "retrieval").glob("calibration-cache-*.npz"))
    return np.load(caches[-1])["vectors"] if caches else None


def filled_index(
    n: int, kind: str, settings: RetrievalSettings, base: np.ndarray | None
) -> KnowledgeIndex:
    """A KnowledgeIndex with n chunks (synthetic vectors, light placeholder texts)."""
    rng = np.random.default_rng(0)
    kb = KnowledgeIndex(load_embedder(settings), settings, kind=kind)
    ids = np.arange(1, n + 1, dtype=np.int64)
    kb.bodies = VectorIndex(DIM, kind, settings.threads)
    kb.keys = VectorIndex(DIM, kind, settings.threads)
    step = 20_000
    for start in range(0, n, step):
        part = ids[start : start + step]
        kb.bodies.add(part, _unit(rng, len(part), base))
        kb.keys.add(part * KEY_SLOTS, _unit(rng, len(part), base))
    kb.chunks = {
        int(i): Chunk(
            source=f"gen/{i // 5}",
            ordinal=int(i % 5),
            group=f"g{i // 5}",
            title=f"Article {i // 5}",
            text="",
            id=int(i),
        )
        for i in ids
    }
    return kb


def latency(sizes: list[int], kinds: list[str], n_queries: int, random_vectors: bool) -> None:
    """p50/p95 per single query (embedding included) for each index size and kind."""
    settings = RetrievalSettings()
    embedder = load_embedder(settings)
    embedder.encode(["warm-up"])
    queries = [QUERIES[i % len(QUERIES)] + f" {i}" for i in range(n_queries)]
    base = None if random_vectors else real_vectors(settings)
    for n in sizes:
        tops: dict[str, list[list[str]]] = {}
        for kind in kinds:
            start = time.perf_counter()
            kb = filled_index(n, kind, settings, base)
            build = time.perf_counter() - start
            secs, embed_secs, tops[kind] = [], [], []
            for q in queries:
                t0 = time.perf_counter()
                vec = embedder.encode([q])
                t1 = time.perf_counter()
                groups = kb.search_groups(q, "internal", vector=vec)
                secs.append(time.perf_counter() - t0)
                embed_secs.append(t1 - t0)
                tops[kind].append([g.group for g in groups[:5]])
            row = {
                "part": "latency",
                "chunks": n,
                "kind": kind,
                "build_s": round(build, 1),
                "p50_ms": _ms(secs, 50),
                "p95_ms": _ms(secs, 95),
                "embed_p50_ms": _ms(embed_secs, 50),
                "backend": settings.backend,
                "vectors": "random" if base is None else "perturbed-real",
            }
            if kind != "flat" and "flat" in tops:
                row["top5_overlap_with_flat"] = round(
                    float(
                        np.mean(
                            [
                                len(set(a) & set(b)) / 5
                                for a, b in zip(tops[kind], tops["flat"], strict=True)
                            ]
                        )
                    ),
                    3,
                )
            print(json.dumps(row), flush=True)
            del kb


def throughput(n_chunks: int, chars: int, batch_sizes: list[int]) -> None:
    """Chunks per second through `KnowledgeIndex.add` (both views embedded, BM25 updated).

    One JSON line per batch size, with the machine's 1-minute load average before and after
    (the machine is shared: a figure without its load means little).
    """
    for batch_size in batch_sizes:
        _throughput(n_chunks, chars, RetrievalSettings().with_(batch_size=batch_size))


def _throughput(n_chunks: int, chars: int, settings: RetrievalSettings) -> None:
    load_before = os.getloadavg()[0]
    embedder = load_embedder(settings)
    embedder.encode(["warm-up"])
    rng = random.Random(0)
    chunks = [
        Chunk(
            source=f"gen/{i // 4}.md",
            ordinal=i % 4,
            group=f"g{i // 4}",
            title=f"Article {i // 4}",
            heading=f"Section {i % 4}",
            text=generated_text(rng, chars),
            id=i + 1,
        )
        for i in range(n_chunks)
    ]
    kb = KnowledgeIndex(embedder, settings)
    start = time.perf_counter()
    kb.add(chunks)
    secs = time.perf_counter() - start
    print(
        json.dumps(
            {
                "part": "throughput",
                "chunks": n_chunks,
                "chunk_chars": chars,
                "seconds": round(secs, 1),
                "chunks_per_s": round(n_chunks / secs, 1),
                "backend": settings.backend,
                "threads": settings.threads,
                "batch_size": settings.batch_size,
                "load_1min_before_after": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            }
        ),
        flush=True,
    )


def equality(n: int) -> None:
    """ONNX vs sentence-transformers on real StackFAQ texts: min cosine and per-query time."""
    import csv

    path = Path("/work/shared/datasets/stackfaq/faq_pairs.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))[:n]
    texts = [r["question"] for r in rows] + [r["answer"] for r in rows]
    base = RetrievalSettings()
    out = {}
    vecs = {}
    for backend in ("onnx", "torch"):
        emb = load_embedder(base.with_(backend=backend))
        emb.encode(["warm-up"])
        vecs[backend] = emb.encode(texts)
        secs = []
        for q in QUERIES * 10:
            t0 = time.perf_counter()
            emb.encode([q])
            secs.append(time.perf_counter() - t0)
        out[f"{backend}_query_p50_ms"] = _ms(secs, 50)
        out[f"{backend}_query_p95_ms"] = _ms(secs, 95)
    cos = np.sum(vecs["onnx"] * vecs["torch"], axis=1)
    out |= {
        "part": "equality",
        "texts": len(texts),
        "min_cosine": round(float(cos.min()), 6),
        "mean_cosine": round(float(cos.mean()), 6),
    }
    print(json.dumps(out), flush=True)


def reference() -> None:
    """Rewrite tests/retrieval/data/minilm_torch_reference.npy with sentence-transformers."""
    from tests.retrieval.test_embedder import REFERENCE, TEXTS

    vectors = load_embedder(RetrievalSettings().with_(backend="torch")).encode(TEXTS)
    np.save(REFERENCE, vectors.astype(np.float32))
    print(REFERENCE)


def _ms(secs: list[float], q: int) -> float:
    return round(float(np.percentile(secs, q)) * 1000, 2)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="part", required=True)
    lat = sub.add_parser("latency")
    lat.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    lat.add_argument("--kinds", nargs="+", default=["flat", "hnsw"])
    lat.add_argument("--queries", type=int, default=200)
    lat.add_argument("--random-vectors", action="store_true", help="uniform random vectors")
    thr = sub.add_parser("throughput")
    thr.add_argument("--chunks", type=int, default=1000)
    thr.add_argument("--chars", type=int, default=RetrievalSettings().chunk_chars)
    thr.add_argument("--batch-sizes", type=int, nargs="+", default=[RetrievalSettings().batch_size])
    eq = sub.add_parser("equality")
    eq.add_argument("--texts", type=int, default=100)
    sub.add_parser("reference")
    args = parser.parse_args(argv)
    if args.part == "latency":
        latency(args.sizes, args.kinds, args.queries, args.random_vectors)
    elif args.part == "throughput":
        throughput(args.chunks, args.chars, args.batch_sizes)
    elif args.part == "equality":
        equality(args.texts)
    else:
        reference()


if __name__ == "__main__":
    sys.exit(main())
