"""Bought-together rules: the figures on hand-made baskets, and no owned products."""

from __future__ import annotations

import pandas as pd
import pytest

from predict import recommend


def _lines(baskets: list[list[str]]) -> pd.DataFrame:
    rows = [
        {"customer": "1", "invoice": f"5{i:05d}", "date": pd.Timestamp("2011-01-01"),
         "product": p, "description": f"item {p}", "quantity": 1.0, "amount": 1.0,
         "cancelled": False}
        for i, basket in enumerate(baskets)
        for p in basket
    ]  # fmt: skip
    return pd.DataFrame(rows)


BASKETS = [["10001", "10002"]] * 6 + [["10001"]] * 2 + [["10003"]] * 12 + [["POST", "10002"]]


def test_support_confidence_lift() -> None:
    rules = recommend.mine_rules(_lines(BASKETS), {"min_pair_baskets": 2, "min_lift": 0.0})
    rule = rules[(rules.antecedent == "10001") & (rules.consequent == "10002")].iloc[0]
    n = len(BASKETS)
    assert rule.support == pytest.approx(6 / n)
    assert rule.confidence == pytest.approx(6 / 8)
    # POST is not a product, so its basket still counts for 10002 but makes no rule.
    assert rule.lift == pytest.approx((6 / 8) / (7 / n))
    assert "POST" not in set(rules.antecedent) | set(rules.consequent)


def test_recommend_excludes_owned_and_ranks_by_confidence() -> None:
    rules = recommend.mine_rules(_lines(BASKETS), {"min_pair_baskets": 2, "min_lift": 0.0})
    recs = recommend.recommend(rules, {"10001"}, {"10002": "Mug"})
    assert [r.product for r in recs] == ["10002"] and recs[0].name == "Mug"
    assert recommend.recommend(rules, {"10001", "10002"}) == []


def test_no_baskets_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no baskets"):
        recommend.mine_rules(_lines([["POST"]]))
