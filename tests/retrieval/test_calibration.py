"""Abstention model: threshold choice, fitting invariants, the shipped calibration file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.calibration import (
    FEATURES,
    MARGIN_CAP,
    Calibrator,
    best_threshold,
    features,
    fit,
)
from retrieval.knowledge import KnowledgeIndex
from retrieval.scoring import GroupScore


def test_best_threshold_separates_and_prefers_abstaining() -> None:
    pos = np.array([0.9, 0.8, 0.7, 0.3])
    correct = np.array([True, True, True, False])
    neg = np.array([0.1, 0.2, 0.35])
    th = best_threshold(pos, correct, neg)
    assert 0.35 < th <= 0.7
    assert ((pos >= th) & correct).mean() == 0.75 and (neg < th).all()


def test_fit_gives_monotone_confidence_in_unit_interval() -> None:
    rng = np.random.default_rng(0)
    pos = np.column_stack(
        [rng.uniform(0.6, 0.9, 200), rng.uniform(0.05, 0.3, 200), rng.uniform(0.3, 1, 200)]
    )
    neg = np.column_stack(
        [rng.uniform(0.1, 0.45, 200), rng.uniform(0, 0.05, 200), rng.uniform(0, 0.4, 200)]
    )
    cal = fit(pos, np.ones(200, bool), neg)
    low, high = (
        cal.confidence(np.array([0.2, 0.01, 0.1])),
        cal.confidence(np.array([0.85, 0.2, 0.8])),
    )
    assert 0 <= low < cal.threshold <= high <= 1
    assert np.mean([cal.abstains(cal.confidence(f)) for f in neg]) > 0.95


def test_shipped_calibration_loads_and_round_trips(tmp_path: Path) -> None:
    cal = Calibrator.load()
    assert len(cal.coef) == len(FEATURES) and 0 < cal.threshold < 1 and cal.fitted_on
    cal.save(tmp_path / "c.json")
    assert Calibrator.load(tmp_path / "c.json") == cal
    (tmp_path / "bad.json").write_text(
        '{"coef": [1], "intercept": 0, "threshold": 0.5, "features": ["other"]}'
    )
    with pytest.raises(ValueError, match="other features"):
        Calibrator.load(tmp_path / "bad.json")


def test_features_of_empty_and_ranked_results() -> None:
    assert features("anything", [], {}).tolist() == [0.0, 0.0, 0.0]
    groups = [GroupScore("g", 0.8, 1, 0.9, 0.7, 0.0), GroupScore("h", 0.5, 2, 0.5, 0.5, 0.0)]
    top1, margin, body = features("reset my password now", groups, {})
    # The margin (0.3) is capped: a tiny knowledge base must not look surer than a big one.
    assert top1 == 0.8 and margin == pytest.approx(MARGIN_CAP) and body == pytest.approx(0.7)
    close = [groups[0], GroupScore("h", 0.77, 2, 0.77, 0.77, 0.0)]
    assert features("reset my password now", close, {})[1] == pytest.approx(0.03)


def test_tiny_knowledge_base_does_not_read_certain(index: KnowledgeIndex) -> None:
    """Five articles: a clear hit is confident but below 1.00, out-of-domain stays low."""
    cal = Calibrator.load()
    hit = index.search_groups("how do I reset my password?", "public")
    miss = index.search_groups("who won the world cup?", "public")
    hit_conf = cal.confidence(features("how do I reset my password?", hit, index.chunks))
    miss_conf = cal.confidence(features("who won the world cup?", miss, index.chunks))
    assert not cal.abstains(hit_conf) and hit_conf < 0.995
    assert cal.abstains(miss_conf)
