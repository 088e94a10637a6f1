"""Segments: k chosen by silhouette, one distinct name per cluster, stable names."""

from __future__ import annotations

import pandas as pd
import pytest

from predict import segments


@pytest.fixture(scope="module")
def rfm(retail_lines: pd.DataFrame) -> pd.DataFrame:
    return segments.rfm(retail_lines)


def test_k_is_the_best_silhouette(rfm: pd.DataFrame) -> None:
    model = segments.SegmentModel({"k_range": [3, 4], "n_init": 2}).fit(rfm)
    best = max(model.silhouettes, key=model.silhouettes.get)
    assert len(model.names) == best
    assert len(set(model.names)) == len(model.names)
    assert all(segments.playbook(n) for n in model.names)


def test_names_survive_retraining_on_shuffled_rows(rfm: pd.DataFrame) -> None:
    config = {"k_range": [4], "n_init": 2}
    first = segments.SegmentModel(dict(config)).fit(rfm)
    shuffled = rfm.sample(frac=1.0, random_state=3)
    second = segments.SegmentModel({**config, "random_state": 7}).fit(shuffled)
    a, b = first.predict(rfm), second.predict(rfm)
    agreement = sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
    assert agreement > 0.9


def test_prototype_names_follow_the_centres() -> None:
    centres = [[-1.0, 1.5, 1.5], [1.6, -1.0, -1.0], [-1.0, -0.8, -0.6]]
    import numpy as np

    assert segments.name_clusters(np.array(centres)) == ["Champions", "Lost", "New customers"]
