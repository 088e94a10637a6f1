"""The TF-IDF baseline that `evaluate` reports next to the system (character n-grams)."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from retrieval.types import Chunk


class TfidfBaseline:
    """Character 3-5-gram TF-IDF over question + answer, group score = best row."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self._vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        self._matrix = self._vec.fit_transform([f"{c.title} {c.text}" for c in chunks])
        self._groups = np.array([c.group for c in chunks])

    def _scores(self, query: str) -> np.ndarray:
        return (self._vec.transform([query]) @ self._matrix.T).toarray()[0]

    def rank(self, query: str) -> list[tuple[str, float]]:
        """Groups by best row cosine, best first."""
        scores = self._scores(query)
        best: dict[str, float] = {}
        for i in np.argsort(-scores):
            best.setdefault(str(self._groups[i]), float(scores[i]))
        return list(best.items())

    def top_score(self, query: str) -> float:
        """Highest row cosine (the baseline's abstention signal)."""
        scores = self._scores(query)
        return float(scores.max()) if len(scores) else 0.0
