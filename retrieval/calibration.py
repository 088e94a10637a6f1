"""Calibrated confidence and the abstain threshold.

A logistic regression on three features of the fused ranking turns scores into the
probability that the top group answers the query:
`top1` (fused score), `margin_cap` (top1 - top2, capped at MARGIN_CAP) and `body` (cosine of
the cited chunk's text alone). The cap keeps the model meaningful whatever the size
of the knowledge base: in a 15-article help centre the runner-up is usually far behind, so an
uncapped margin made every in-domain hit read 100 %; past 0.1 a wider margin says nothing
more about being right (docs/benchmarks.md). It is fitted on training queries (label: top
group correct) against out-of-domain questions (label 0), and the threshold is chosen on the
same training data to maximise answered-correctly + abstained-on-negatives, so a confident
miss costs as much as a refusal. The fitted numbers live in `retrieval/calibration.json`
(plain JSON, reviewed in git).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from retrieval.scoring import GroupScore
from retrieval.types import Chunk

DEFAULT_PATH = Path(__file__).with_name("calibration.json")
FEATURES = ("top1", "margin_cap", "body")
MARGIN_CAP = 0.1


def features(query: str, groups: list[GroupScore], chunks: dict[int, Chunk]) -> np.ndarray:
    """Return the feature vector (top1, margin_cap, body) of one ranked query.

    `body` is the cosine of the cited chunk's text: a title that merely shares a word
    ("Refund *policy*" for "discount approval policy") lifts the fused score but not this.
    `query` and `chunks` are part of the signature for features that need the text (an
    earlier word-overlap feature carried no weight and was dropped).
    An empty ranking gives zeros, which the model maps to a low confidence.
    """
    if not groups:
        return np.zeros(len(FEATURES))
    top1 = groups[0].score
    margin = min(top1 - groups[1].score if len(groups) > 1 else top1, MARGIN_CAP)
    return np.array([top1, margin, groups[0].body])


@dataclass(frozen=True)
class Calibrator:
    """Logistic model + threshold; `baseline_threshold` serves the TF-IDF baseline."""

    coef: tuple[float, ...]
    intercept: float
    threshold: float
    baseline_threshold: float = 0.0
    fitted_on: str = ""

    def confidence(self, feats: np.ndarray) -> float:
        """Probability in [0, 1] that the top group is a correct answer."""
        z = float(np.dot(self.coef, feats) + self.intercept)
        return float(1.0 / (1.0 + np.exp(-z)))

    def abstains(self, confidence: float) -> bool:
        """True when the confidence is below the threshold chosen on training data."""
        return confidence < self.threshold

    def save(self, path: Path = DEFAULT_PATH) -> None:
        """Write the fitted numbers as JSON."""
        data = asdict(self) | {"features": list(FEATURES)}
        path.write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> Calibrator:
        """Read a calibration; raises FileNotFoundError / ValueError loudly when unusable."""
        data = json.loads(path.read_text())
        if tuple(data.pop("features", ())) != FEATURES:
            raise ValueError(f"{path}: calibration was fitted on other features")
        data["coef"] = tuple(data["coef"])
        return cls(**data)


def best_threshold(pos_conf: np.ndarray, pos_correct: np.ndarray, neg_conf: np.ndarray) -> float:
    """Threshold maximising answered-correctly rate + abstain rate on negatives.

    Ties go to the higher threshold (prefer an honest refusal over a confident miss).
    """
    candidates = np.unique(np.concatenate([pos_conf, neg_conf, [0.5]]))
    best, best_value = 0.5, -1.0
    for th in candidates:
        value = ((pos_conf >= th) & pos_correct).mean() + (neg_conf < th).mean()
        if value >= best_value:
            best, best_value = float(th), value
    # Stop halfway to the next lower negative so borderline cases are not all on one side.
    lower = neg_conf[neg_conf < best]
    return (best + float(lower.max())) / 2 if len(lower) else best


def fit(
    pos: np.ndarray, pos_correct: np.ndarray, neg: np.ndarray, fitted_on: str = ""
) -> Calibrator:
    """Fit the logistic model on positive (correct / wrong) and negative query features.

    Args:
        pos: features of in-domain training queries; pos_correct: top group was right.
        neg: features of out-of-domain training questions (always label 0).
        fitted_on: a note on the data, stored in the JSON.
    """
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([pos, neg])
    y = np.concatenate([pos_correct.astype(int), np.zeros(len(neg), dtype=int)])
    model = LogisticRegression(C=10.0, max_iter=1000, class_weight="balanced", random_state=0)
    model.fit(x, y)
    coef = tuple(float(c) for c in model.coef_[0])
    cal = Calibrator(coef, float(model.intercept_[0]), 0.5, fitted_on=fitted_on)
    pos_conf = np.array([cal.confidence(f) for f in pos])
    neg_conf = np.array([cal.confidence(f) for f in neg])
    threshold = best_threshold(pos_conf, pos_correct.astype(bool), neg_conf)
    return Calibrator(coef, cal.intercept, threshold, fitted_on=fitted_on)
