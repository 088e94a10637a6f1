"""Abstention model: threshold choice, fitting invariants, the shipped calibration file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.calibration import FEATURES, Calibrator, best_threshold, features, fit
from retrieval.scoring import GroupScore
from retrieval.types import Chunk


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
    chunk = Chunk(
        source="a", ordinal=0, group="g", title="Reset password", text="Use the link.", id=1
    )
    groups = [GroupScore("g", 0.8, 1, 0.8, 0.8, 0.0), GroupScore("h", 0.5, 2, 0.5, 0.5, 0.0)]
    top1, margin, overlap = features("reset my password now", groups, {1: chunk})
    assert top1 == 0.8 and margin == pytest.approx(0.3) and overlap == pytest.approx(2 / 3)
