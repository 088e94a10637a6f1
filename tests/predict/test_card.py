"""The account card with real models: live churn with reasons, or the stored batch score."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from crm_store.models import PredictionScore
from predict.card import account_card
from predict.demo import prepare_demo_predictions
from tests.crm_store.store_helpers import account_id, scope_of


def test_card_scores_churn_live_with_reasons_each_way(
    seeded_session: Session, telco_raw: pd.DataFrame, models_root: Path, tmp_path: Path
) -> None:
    data = tmp_path / "telco.csv"
    telco_raw.to_csv(data, index=False)
    prepared = prepare_demo_predictions(seeded_session, data=data, root=models_root)
    acme = account_id(seeded_session, "Acme Corp")
    card = account_card(session=seeded_session, scope=scope_of(seeded_session, "rep"),
                        account_id=acme)  # fmt: skip
    assert card is not None and card.churn is not None and card.next_action is not None
    churn = card.churn
    assert churn.live and churn.model_version == prepared.model_version
    # Acme Corp is pinned to the classic high-risk plan (month-to-month, fiber, e-check); a
    # model trained on 600 rows may call it medium rather than high, never low.
    assert churn.risk in ("high", "medium") and churn.probability >= 0.3
    assert churn.raising and all(r.effect > 0 for r in churn.raising)
    assert all(r.effect < 0 for r in churn.lowering)
    assert "month-to-month contract" in [r.text for r in churn.raising]
    assert "churn risk" in card.next_action.why and card.notes == []
    assert account_card(session=seeded_session, scope=scope_of(seeded_session, "other_rep"),
                        account_id=acme) is None  # fmt: skip


def test_card_falls_back_to_the_stored_score_without_a_model(
    seeded_session: Session, models_root: Path
) -> None:
    acme = account_id(seeded_session, "Acme Corp")
    seeded_session.add(PredictionScore(
        account_id=acme, kind="churn", score=0.42, label="medium", model_version="batch-1",
        reasons=[{"feature": "Contract", "effect": 0.8}, {"feature": "tenure", "effect": -0.3}],
    ))  # fmt: skip
    seeded_session.flush()
    card = account_card(session=seeded_session, scope=scope_of(seeded_session, "manager"),
                        account_id=acme)  # fmt: skip
    assert card is not None and card.churn is not None
    assert (card.churn.live, card.churn.risk, card.churn.model_version) == (
        False, "medium", "batch-1")  # fmt: skip
    assert [r.feature for r in card.churn.raising] == ["Contract"]
    assert [r.feature for r in card.churn.lowering] == ["tenure"]
