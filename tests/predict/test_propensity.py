"""Propensity features see only the past; reasons add up; the time split holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predict import propensity


@pytest.fixture(scope="module")
def cutoff(retail_lines: pd.DataFrame) -> pd.Timestamp:
    return retail_lines["date"].min().normalize() + pd.Timedelta(days=30)


def test_features_ignore_the_future(retail_lines: pd.DataFrame, cutoff: pd.Timestamp) -> None:
    before = propensity.features(retail_lines, cutoff)
    past_only = retail_lines[retail_lines["date"] < cutoff]
    assert before.equals(propensity.features(past_only, cutoff))
    assert (before["recency_days"] >= 0).all() and list(before.columns) == list(propensity.COLUMNS)
    assert list(propensity.COLUMNS[: len(propensity.FEATURES)]) == list(propensity.FEATURES)


def test_features_by_hand() -> None:
    day = pd.Timestamp("2011-01-10")
    lines = pd.DataFrame(
        {
            "customer": ["a", "a", "a", "b", "b", "a"],
            "invoice": ["1", "1", "2", "3", "C4", "5"],
            "date": [day, day, day + pd.Timedelta(hours=3), day + pd.Timedelta(days=2),
                     day + pd.Timedelta(days=3), day + pd.Timedelta(days=30)],
            "product": ["P1", "P2", "P1", "P1", "P1", "P3"],
            "description": [""] * 6,
            "quantity": [12.0, 2.0, 24.0, 1.0, -1.0, 5.0],
            "amount": [10.0, 4.0, 20.0, 2.0, -2.0, 1.0],
            "cancelled": [False, False, False, False, True, False],
        }
    )  # fmt: skip
    x = propensity.features(lines, day + pd.Timedelta(days=10))
    a, b = x.loc["a"], x.loc["b"]
    # Two invoices on one day: one order day; the line after the cut-off is ignored.
    assert (a["order_days"], a["invoices"], a["distinct_products"]) == (1, 2, 2)
    assert a["units_per_line"] == 12 and b["units_per_line"] == 1
    assert (a["recency_days"], b["recency_days"], b["customer_age_days"]) == (9, 8, 8)
    # P1 has 2 buyers, P2 one: a's lines are P1, P2, P1.
    assert a["product_reach"] == pytest.approx((2 * np.log1p(2) + np.log1p(1)) / 3)
    assert b["product_reach"] == pytest.approx(np.log1p(2))
    assert propensity.describe("product_reach", np.log1p(2)) == (
        "its products are bought by about 2 customers each"
    )


def test_labels_mark_buyers_in_the_window(retail_lines: pd.DataFrame, cutoff) -> None:
    customers = propensity.features(retail_lines, cutoff).index
    y = propensity.labels(retail_lines, customers, cutoff, 14)
    window = retail_lines[
        (retail_lines["date"] >= cutoff)
        & (retail_lines["date"] < cutoff + pd.Timedelta(days=14))
        & ~retail_lines["cancelled"]
    ]
    assert set(customers[y == 1]) == set(window["customer"]) & set(customers)


def test_training_cutoffs_never_overlap_the_test_window() -> None:
    test = pd.Timestamp("2011-09-01")
    params = {**propensity.DEFAULTS}
    for c in propensity.training_cutoffs(test, params):
        assert c + pd.Timedelta(days=params["horizon_days"]) <= test


def test_reasons_sum_to_log_odds(retail_lines: pd.DataFrame, cutoff) -> None:
    x = propensity.features(retail_lines, cutoff)
    y = propensity.labels(retail_lines, x.index, cutoff, 14)
    model = propensity.PropensityModel().fit(x, y)
    log_odds, terms, base = model.explain(x)
    assert np.abs(base + terms.sum(axis=1) - log_odds).max() < 1e-6
    p = model.predict_proba(x)
    assert ((p >= 0) & (p <= 1)).all()


def test_evaluate_refuses_a_cutoff_without_a_full_horizon(retail_lines: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="full horizon"):
        propensity.evaluate(retail_lines, retail_lines["date"].max())
