"""`crm retrieval evaluate` / `calibrate`: FAQ retrieval quality, latency and abstention.

The corpus is one document per CSV row (question + answer) grouped by a group column; a
query counts as a hit at k when one of its top-k groups is its own group. Every figure is
computed per single query, embedding included, the way the bot will call the service.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.calibration import Calibrator, best_threshold, features, fit
from retrieval.config import RetrievalSettings
from retrieval.csv_input import read_rows
from retrieval.embedder import Embedder, load_embedder
from retrieval.knowledge import KnowledgeIndex
from retrieval.onnx_export import model_hash
from retrieval.scoring import FusionWeights
from retrieval.tfidf_baseline import TfidfBaseline
from retrieval.types import Chunk

Log = Callable[[str], None]


@dataclass(frozen=True)
class Columns:
    """CSV column names (the CLI options of the same names)."""

    question: str = "question"
    answer: str = "answer"
    group: str = "thread_id"
    query: str = "query"
    negative: str = "text"


class CachedEmbedder:
    """Remembers vectors by text so repeated builds (calibration folds) embed once.

    `calibrate` uses it for everything (optionally backed by a file under var/); `evaluate`
    only to build the corpus index, so its latency figures always include a real query
    embedding while re-running it on a busy machine does not re-embed 700 answers.
    """

    def __init__(self, inner: Embedder, path: Path | None = None) -> None:
        self.inner, self.dim, self.path = inner, inner.dim, path
        self._cache: dict[str, np.ndarray] = {}
        self._tokens: dict[str, np.ndarray] = {}  # in memory only (tens of MB per corpus)
        if hasattr(inner, "encode_with_tokens"):
            self.encode_with_tokens = self._encode_with_tokens
        if path and path.exists():
            data = np.load(path, allow_pickle=False)
            self._cache = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))

    def save(self) -> None:
        """Write the cache file (if one was given)."""
        if self.path and self._cache:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            texts = list(self._cache)
            np.savez(self.path, texts=np.array(texts), vectors=np.stack(list(self._cache.values())))

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed only the texts not seen before."""
        new = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if new:
            for text, vec in zip(new, self.inner.encode(new), strict=True):
                self._cache[text] = vec
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    def _encode_with_tokens(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Like `encode`, plus token vectors (offered only when the inner embedder has them)."""
        new = list(dict.fromkeys(t for t in texts if t not in self._tokens))
        if new:
            vecs, tokens = self.inner.encode_with_tokens(new)  # type: ignore[attr-defined]
            for text, vec, rows in zip(new, vecs, tokens, strict=True):
                self._cache[text], self._tokens[text] = vec, rows
        return self.encode(texts), [self._tokens[t] for t in texts]


def corpus_chunks(path: Path, cols: Columns) -> list[Chunk]:
    """One chunk per corpus row: title = question, text = answer, group = group column."""
    rows = read_rows(path, [cols.question, cols.answer, cols.group])
    return [
        Chunk(
            source=f"{path}#{n}",
            ordinal=0,
            group=r[cols.group].strip(),
            title=r[cols.question].strip(),
            text=r[cols.answer].strip(),
            id=n,
        )
        for n, r in enumerate(rows)
    ]


def attach_paraphrases(chunks: list[Chunk], queries: list[tuple[str, str]]) -> None:
    """Give the first chunk of each group the known phrasings (text, group) of that group."""
    first: dict[str, Chunk] = {}
    for c in chunks:
        first.setdefault(c.group, c)
        c.questions = []
    for text, group in queries:
        if group in first:
            first[group].questions.append(text)


def build_index(
    chunks: list[Chunk], embedder: Embedder, settings: RetrievalSettings, log: Log
) -> KnowledgeIndex:
    """Index chunks in memory, logging throughput."""
    index = KnowledgeIndex(embedder, settings, FusionWeights())
    start = time.perf_counter()
    index.add(chunks)
    secs = time.perf_counter() - start
    log(f"indexed {len(chunks)} chunks in {secs:.1f} s ({len(chunks) / max(secs, 1e-9):.0f}/s)")
    return index


def rank_of(groups: list[str], gold: str) -> int:
    """0-based rank of gold among ranked groups, or a large number when absent."""
    return groups.index(gold) if gold in groups else 10**6


def run_queries(
    index: KnowledgeIndex, queries: list[str], embedder: Embedder
) -> tuple[list[list[str]], np.ndarray, np.ndarray]:
    """Rank groups for each query; returns (group rankings, features, seconds per query)."""
    rankings: list[list[str]] = []
    feats: list[np.ndarray] = []
    secs: list[float] = []
    for query in queries:
        start = time.perf_counter()
        vector, tokens = _embed_query(index, embedder, query)
        groups = index.search_groups(query, "internal", vector=vector, tokens=tokens)
        feats.append(features(query, groups, index.chunks))
        secs.append(time.perf_counter() - start)
        rankings.append([g.group for g in groups])
    return rankings, np.array(feats).reshape(len(queries), 3), np.array(secs)


def _embed_query(
    index: KnowledgeIndex, embedder: Embedder, query: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """The query's vector (and token vectors when the index re-ranks by MaxSim)."""
    if index.late_active and hasattr(embedder, "encode_with_tokens"):
        vecs, tokens = embedder.encode_with_tokens([query])
        return vecs, tokens[0]
    return embedder.encode([query]), None


def retrieval_metrics(rankings: list[list[str]], gold: list[str]) -> dict[str, float]:
    """recall@1, recall@5 and MRR over group rankings."""
    ranks = np.array([rank_of(r, g) for r, g in zip(rankings, gold, strict=True)])
    return {
        "recall_at_1": float((ranks == 0).mean()),
        "recall_at_5": float((ranks < 5).mean()),
        "mrr": float(np.where(ranks < 10**6, 1.0 / (ranks + 1), 0.0).mean()),
    }


def evaluate(
    corpus: Path,
    queries: Path,
    negatives: Path | None = None,
    paraphrases: Path | None = None,
    cols: Columns = Columns(),
    settings: RetrievalSettings | None = None,
    calibrator: Calibrator | None = None,
    log: Log = print,
) -> dict[str, object]:
    """Index the corpus, run every query (and negative), return the metrics dict.

    Args:
        paraphrases: optional CSV of known phrasings (query + group columns) indexed as
            extra questions of their group; they must not overlap the evaluated queries.
        calibrator: abstention model; defaults to `retrieval/calibration.json`.
    """
    settings = settings or RetrievalSettings()
    calibrator = calibrator or Calibrator.load()
    chunks = corpus_chunks(corpus, cols)
    qrows = read_rows(queries, [cols.query, cols.group])
    texts = [r[cols.query].strip() for r in qrows]
    gold = [r[cols.group].strip() for r in qrows]
    neg_texts = _negatives(negatives, cols)
    if paraphrases:
        prow = read_rows(paraphrases, [cols.query, cols.group])
        attach_paraphrases(chunks, [(r[cols.query].strip(), r[cols.group].strip()) for r in prow])
    embedder = load_embedder(settings)
    embedder.encode(["warm-up"])
    index = build_index(chunks, CachedEmbedder(embedder, _cache_path(settings)), settings, log)
    log(f"running {len(texts)} queries and {len(neg_texts)} negatives")
    rankings, feats, secs = run_queries(index, texts, embedder)
    result: dict[str, object] = retrieval_metrics(rankings, gold)
    result |= {"p50_ms": _ms(secs, 50), "p95_ms": _ms(secs, 95)}
    conf = np.array([calibrator.confidence(f) for f in feats])
    correct = np.array([bool(r) and r[0] == g for r, g in zip(rankings, gold, strict=True)])
    result["answered_correct_rate"] = float(((conf >= calibrator.threshold) & correct).mean())
    if neg_texts:
        _, neg_feats, _ = run_queries(index, neg_texts, embedder)
        neg_conf = np.array([calibrator.confidence(f) for f in neg_feats])
        result["abstain_rate_negatives"] = float((neg_conf < calibrator.threshold).mean())
    else:
        result["abstain_rate_negatives"] = None
    result["baseline_tfidf"] = _baseline(chunks, texts, gold, neg_texts, calibrator)
    result |= {"n_queries": len(texts), "n_negatives": len(neg_texts), "index_kind": index.kind}
    return result


def _baseline(
    chunks: list[Chunk], texts: list[str], gold: list[str], neg: list[str], cal: Calibrator
) -> dict[str, object]:
    base = TfidfBaseline(chunks)
    secs, rankings, top = [], [], []
    for query in texts:
        start = time.perf_counter()
        ranked = base.rank(query)
        secs.append(time.perf_counter() - start)
        rankings.append([g for g, _ in ranked])
        top.append(ranked[0][1] if ranked else 0.0)
    out: dict[str, object] = retrieval_metrics(rankings, gold)
    out |= {"p50_ms": _ms(np.array(secs), 50), "p95_ms": _ms(np.array(secs), 95)}
    correct = np.array([bool(r) and r[0] == g for r, g in zip(rankings, gold, strict=True)])
    out["answered_correct_rate"] = float(
        ((np.array(top) >= cal.baseline_threshold) & correct).mean()
    )
    neg_top = np.array([base.top_score(q) for q in neg])
    out["abstain_rate_negatives"] = (
        float((neg_top < cal.baseline_threshold).mean()) if neg else None
    )
    return out


def _negatives(path: Path | None, cols: Columns) -> list[str]:
    if path is None:
        return []
    return [r[cols.negative].strip() for r in read_rows(path, [cols.negative])]


def _ms(secs: np.ndarray, q: int) -> float:
    return round(float(np.percentile(secs, q)) * 1000, 2) if len(secs) else 0.0


def calibrate(
    corpus: Path,
    queries: Path,
    negatives: Path,
    cols: Columns = Columns(),
    settings: RetrievalSettings | None = None,
    folds: int = 0,
    log: Log = print,
) -> Calibrator:
    """Fit the abstention model on training queries vs out-of-domain training questions.

    By default (`folds=0`) the features come from the corpus alone, the hardest case and
    the one a new help centre is in. With `folds > 0` they are pooled with a second
    condition, the corpus plus the other folds' queries as known phrasings (each query never
    sees itself); that pooling raised the threshold and cost 3 points of answered-correctly
    corpus-only (0.912 vs 0.944 held out, docs/benchmarks.md), so it is off.
    """
    settings = settings or RetrievalSettings()
    chunks = corpus_chunks(corpus, cols)
    qrows = read_rows(queries, [cols.query, cols.group])
    pairs = [(r[cols.query].strip(), r[cols.group].strip()) for r in qrows]
    neg_texts = _negatives(negatives, cols)
    embedder = CachedEmbedder(load_embedder(settings), _cache_path(settings))
    pos, correct, neg = [], [], []
    fold_of = _folds_within_group(pairs, folds) if folds else [0] * len(pairs)
    for fold in [None, *range(folds)]:
        known = [p for p, f in zip(pairs, fold_of, strict=True) if fold is not None and f != fold]
        held = [p for p, f in zip(pairs, fold_of, strict=True) if fold is None or f == fold]
        if not held:
            continue
        attach_paraphrases(chunks, known)
        index = build_index(chunks, embedder, settings, log)
        rankings, feats, _ = run_queries(index, [t for t, _ in held], embedder)
        pos.append(feats)
        correct += [bool(r) and r[0] == g for r, (_, g) in zip(rankings, held, strict=True)]
        neg.append(run_queries(index, neg_texts, embedder)[1])
    embedder.save()
    note = f"{queries.name} ({len(pairs)} queries) vs {negatives.name} ({len(neg_texts)})"
    cal = fit(np.vstack(pos), np.array(correct), np.vstack(neg), fitted_on=note)
    base = TfidfBaseline(chunks)
    top = np.array([base.top_score(t) for t, _ in pairs])
    ranked_ok = np.array([base.rank(t)[0][0] == g for t, g in pairs])
    neg_top = np.array([base.top_score(t) for t in neg_texts])
    return Calibrator(
        cal.coef, cal.intercept, cal.threshold, best_threshold(top, ranked_ok, neg_top), note
    )


def _folds_within_group(pairs: list[tuple[str, str]], folds: int) -> list[int]:
    seen: dict[str, int] = defaultdict(int)
    out = []
    for _, group in pairs:
        out.append(seen[group] % folds)
        seen[group] += 1
    return out


def _cache_path(settings: RetrievalSettings) -> Path:
    """Vectors cached per model weights, so a changed model never reuses old vectors."""
    return settings.var_dir / "retrieval" / f"calibration-cache-{model_hash()}.npz"
