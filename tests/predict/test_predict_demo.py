"""`crm demo run`'s prediction step: train once per data file, score every demo account."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.demo import seed
from crm_store.demo_catalog import BUNDLES
from crm_store.models import Account, Order, OrderStatus, PredictionScore, Subscription
from predict import service
from predict.demo import ensure_recommendations_model, prepare_demo_predictions

DAY = date(2026, 1, 15)


def _scores(session: Session, version: str) -> int:
    query = select(func.count()).where(
        PredictionScore.kind == "churn", PredictionScore.model_version == version
    )
    return int(session.scalar(query) or 0)


def test_demo_accounts_get_real_scores_and_the_model_is_reused(
    seeded_session: Session, telco_raw: pd.DataFrame, models_root: Path, tmp_path: Path
) -> None:
    data = tmp_path / "telco.csv"
    telco_raw.to_csv(data, index=False)
    accounts = seeded_session.scalar(select(func.count()).select_from(Account))
    assert seeded_session.scalar(select(func.count()).select_from(Subscription)) == accounts

    first = prepare_demo_predictions(seeded_session, data=data, root=models_root)
    assert first.trained and first.scored == accounts
    assert _scores(seeded_session, first.model_version) == accounts
    # Segments come from the demo's own orders: every account with a kept order gets one.
    buyers = seeded_session.scalar(
        select(func.count(func.distinct(Order.account_id))).where(
            Order.status.not_in([OrderStatus.cancelled, OrderStatus.returned])
        )
    )
    assert first.segments_version is not None and first.segmented == buyers

    assert first.recommendations_version is not None

    again = prepare_demo_predictions(seeded_session, data=data, root=models_root)
    assert (again.model_version, again.trained, again.scored) == (first.model_version, False, 0)
    assert (again.segments_version, again.segmented) == (first.segments_version, 0)
    assert again.recommendations_version == first.recommendations_version  # same orders

    # Other training data (a changed file) means a new model, and every account is rescored.
    telco_raw.iloc[:-50].to_csv(data, index=False)
    changed = prepare_demo_predictions(seeded_session, data=data, root=models_root)
    assert changed.trained and changed.model_version != first.model_version
    assert changed.scored == accounts


def test_demo_subscriptions_are_deterministic(session: Session) -> None:
    seed(session, today=DAY)
    plans = [
        (s.external_ref, s.contract, s.internet_service, s.tenure_months, s.monthly_charges)
        for s in session.scalars(select(Subscription).order_by(Subscription.external_ref))
    ]
    session.rollback()
    seed(session, today=DAY)
    again = [
        (s.external_ref, s.contract, s.internet_service, s.tenure_months, s.monthly_charges)
        for s in session.scalars(select(Subscription).order_by(Subscription.external_ref))
    ]
    assert plans == again and len(plans) > 0
    assert any(p[1] == "Month-to-month" for p in plans) and any(
        p[1] != "Month-to-month" for p in plans
    )


def test_demo_accounts_get_products_bought_with_theirs(
    seeded_session: Session, models_root: Path
) -> None:
    """The demo's rules are mined from its own orders, so they name the demo's SKUs."""
    assert ensure_recommendations_model(seeded_session, models_root) is not None
    _, (rules, _) = service.load_rules(models_root)
    groups = {sku: group for group in BUNDLES for sku in group}
    # The rules find the bundles; the random fallback lines make at most a chance pair or two.
    pairs = list(zip(rules.antecedent, rules.consequent, strict=True))
    within = [groups[a] is groups[c] for a, c in pairs]
    assert sum(within) >= 0.9 * len(pairs), pairs
    assert {groups[a] for (a, _), inside in zip(pairs, within, strict=True) if inside} == set(
        BUNDLES
    )
    with_rules = 0
    for account in seeded_session.scalars(select(Account)):
        owned = service.owned_products(seeded_session, account.id)
        offers = service.recommend_products(seeded_session, account.id, root=models_root)
        assert offers is not None
        assert not {o.product for o in offers} & owned
        assert all(o.because in owned and o.lift >= 1.5 for o in offers)
        with_rules += bool(offers)
    assert with_rules >= 20, with_rules
