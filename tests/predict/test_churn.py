"""Churn model invariants: exact additive reasons, calibration range, round trips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predict import registry, telco
from predict.churn import ChurnModel
from predict.reasons import phrase, telco_reasons


@pytest.fixture(scope="module")
def model(telco_rows: pd.DataFrame) -> ChurnModel:
    return ChurnModel().fit(telco_rows)


def test_contributions_sum_to_model_output(model: ChurnModel, telco_rows: pd.DataFrame) -> None:
    log_odds, contributions = model.explain(telco_rows)
    # Reference: the log-odds computed the slow way, from the full design matrix.
    assert np.allclose(log_odds, model.log_odds(telco_rows), atol=1e-9)
    assert np.abs(model.base_log_odds + contributions.sum(axis=1) - log_odds).max() < 1e-6
    probability = model.predict_proba(telco_rows)
    rebuilt = 1 / (1 + np.exp(-(model.base_log_odds + contributions.sum(axis=1))))
    assert np.abs(rebuilt - probability).max() < 1e-6


def test_probabilities_are_calibrated_range(model: ChurnModel, telco_rows: pd.DataFrame) -> None:
    p = model.predict_proba(telco_rows)
    assert ((p > 0) & (p < 1)).all()
    # Platt scaling keeps the mean near the base rate on its own training data.
    assert abs(p.mean() - telco_rows["Churn"].mean()) < 0.03


def test_contribution_sign_follows_the_data(model: ChurnModel, telco_rows: pd.DataFrame) -> None:
    contract = telco.FEATURES.index("Contract")
    contributions = model.contributions(telco_rows)
    monthly = telco_rows["Contract"].to_numpy() == "Month-to-month"
    assert contributions[monthly, contract].min() > contributions[~monthly, contract].max()


def test_unknown_category_scores_without_crash(model: ChurnModel, telco_rows: pd.DataFrame) -> None:
    rows = telco_rows.head(3).copy()
    rows.loc[rows.index[0], "PaymentMethod"] = "Crypto"
    log_odds, contributions = model.explain(rows)
    assert np.isfinite(log_odds).all()
    assert abs(model.base_log_odds + contributions[0].sum() - log_odds[0]) < 1e-6
    reasons = telco_reasons(rows.iloc[0].to_dict(), list(contributions[0]))
    assert any("not seen" in r.text for r in reasons if r.feature == "PaymentMethod")


def test_registry_round_trip_gives_same_scores(
    model: ChurnModel, telco_rows: pd.DataFrame, models_root
) -> None:
    manifest = registry.Manifest(
        name="churn",
        version=registry.new_version("churn", "0" * 64),
        data_sha256="0" * 64,
        data_source="test",
        metrics={},
        features=list(telco.FEATURES),
        params=model.params,
        created_at="2026-01-01T00:00:00+00:00",
    )
    registry.save(manifest, model.to_state(), "# card", models_root)
    loaded_manifest, state = registry.load("churn", root=models_root)
    again = ChurnModel.from_state(state)
    assert loaded_manifest == manifest
    assert np.array_equal(again.predict_proba(telco_rows), model.predict_proba(telco_rows))


def test_fixed_seed_makes_training_deterministic(telco_rows: pd.DataFrame) -> None:
    rows = telco_rows.head(200)
    a = ChurnModel().fit(rows).predict_proba(rows)
    b = ChurnModel().fit(rows).predict_proba(rows)
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    ("feature", "value", "text"),
    [
        ("Contract", "Month-to-month", "month-to-month contract"),
        ("tenure", 2.0, "tenure 2 months"),
        ("tenure", 1.0, "tenure 1 month"),
        ("TechSupport", "No", "no tech support"),
        ("MonthlyCharges", 95.7, "monthly charges $95.70"),
    ],
)
def test_reasons_read_like_a_rep_talks(feature: str, value, text: str) -> None:
    assert phrase(feature, value) == text


def test_batch_reasons_json_matches_contributions(
    model: ChurnModel, telco_rows: pd.DataFrame
) -> None:
    import json

    from predict.store import reasons_json

    contributions = model.contributions(telco_rows.head(50))
    for row, text in zip(contributions, reasons_json(contributions, telco.FEATURES), strict=True):
        entries = json.loads(text)
        ups = [e["effect"] for e in entries if e["effect"] > 0]
        downs = [e["effect"] for e in entries if e["effect"] < 0]
        assert ups == sorted(ups, reverse=True) and downs == sorted(downs)
        assert ups[:1] == [round(float(row.max()), 4)]
        assert downs[:1] == [round(float(row.min()), 4)]
        for entry in entries:
            f = telco.FEATURES.index(entry["feature"])
            assert entry["effect"] == round(float(row[f]), 4)
