"""BM25 over chunk texts with incremental add / remove (an inverted index of NumPy postings).

The dense model misses rare literal tokens (product codes, error strings); BM25 catches them.
Postings are kept per term and re-packed into arrays lazily, so a query costs one vectorised
pass per query term.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

import numpy as np

TOKEN_RE = re.compile(r"[a-z0-9][a-z0-9_.\-]*[a-z0-9]|[a-z0-9]")
_STOPWORD_TEXT = (
    "a an and are as at be but by can could do does for from how i if in into is it its me my "
    "of on or our so that the their then there these this to was we what when where which "
    "who why will with would you your"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split(" "))


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens without stop words (dots and dashes kept inside tokens)."""
    return [t for t in TOKEN_RE.findall(text.lower()) if t not in STOPWORDS]


class BM25Index:
    """Okapi BM25 (k1=1.2, b=0.75) with ids chosen by the caller."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._docs: dict[int, Counter[str]] = {}
        self._lengths: dict[int, int] = {}
        self._postings: dict[str, dict[int, int]] = defaultdict(dict)
        self._packed: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._total_len = 0

    def __len__(self) -> int:
        return len(self._docs)

    def add(self, doc_id: int, text: str) -> None:
        """Index text under doc_id, replacing an older version."""
        self.remove(doc_id)
        counts = Counter(tokenize(text))
        self._docs[doc_id] = counts
        self._lengths[doc_id] = sum(counts.values())
        self._total_len += self._lengths[doc_id]
        for term, tf in counts.items():
            self._postings[term][doc_id] = tf
            self._packed.pop(term, None)

    def remove(self, doc_id: int) -> None:
        """Forget doc_id (no-op when unknown)."""
        counts = self._docs.pop(doc_id, None)
        if counts is None:
            return
        self._total_len -= self._lengths.pop(doc_id)
        for term in counts:
            self._postings[term].pop(doc_id, None)
            self._packed.pop(term, None)

    def _pack(self, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if term not in self._packed:
            post = self._postings.get(term, {})
            ids = np.fromiter(post.keys(), dtype=np.int64, count=len(post))
            tfs = np.fromiter(post.values(), dtype=np.float32, count=len(post))
            lens = np.fromiter((self._lengths[i] for i in ids), dtype=np.float32, count=len(ids))
            self._packed[term] = (ids, tfs, lens)
        return self._packed[term]

    def _avg_len(self) -> float:
        return self._total_len / max(len(self._docs), 1)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Return up to k (doc_id, score) pairs, best first; empty when no term matches."""
        n = len(self._docs)
        avg = max(self._avg_len(), 1e-9)
        acc_ids, acc_scores = [], []
        for term in set(tokenize(query)):
            df = len(self._postings.get(term, ()))
            if df == 0:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            ids, tfs, lens = self._pack(term)
            norm = self.k1 * (1 - self.b + self.b * lens / avg)
            acc_ids.append(ids)
            acc_scores.append(idf * tfs * (self.k1 + 1) / (tfs + norm))
        if not acc_ids:
            return []
        ids = np.concatenate(acc_ids)
        vals = np.concatenate(acc_scores)
        uniq, inv = np.unique(ids, return_inverse=True)
        total = np.bincount(inv, weights=vals)
        top = np.argsort(-total)[:k]
        return [(int(uniq[i]), float(total[i])) for i in top]
