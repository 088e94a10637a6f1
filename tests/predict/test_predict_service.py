"""The functions the bot calls, on a real CRM database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import (
    Account,
    Lead,
    Order,
    OrderLine,
    OrderStatus,
    PredictionScore,
    Product,
    Subscription,
)
from crm_store.scope import Scope
from predict import service, store, training
from predict.errors import NotScorableError, SchemaMismatchError


@pytest.fixture(scope="module")
def trained_root(tmp_path_factory: pytest.TempPathFactory, telco_raw: pd.DataFrame) -> Path:
    """A registry with a churn model and bought-together rules, trained once."""
    root = tmp_path_factory.mktemp("models")
    training.train("churn", rows=telco_raw.head(300), root=root)
    baskets = [["10001", "10002"]] * 12 + [["10001"]] * 4 + [["10003"]] * 30
    lines = pd.DataFrame(
        [
            {"customer": "1", "invoice": f"5{i:05d}", "date": pd.Timestamp("2011-01-01"),
             "product": p, "description": f"item {p}", "quantity": 1.0, "amount": 1.0,
             "cancelled": False}
            for i, basket in enumerate(baskets)
            for p in basket
        ]
    )  # fmt: skip
    training.train("recommendations", rows=lines, root=root)
    return root


def _account(session: Session, raw: pd.DataFrame | None, i: int) -> Account:
    account = Account(name=f"Customer {i}", external_ref=f"test:{i}")
    session.add(account)
    session.flush()
    if raw is not None:
        row = raw.iloc[i].to_dict()
        record = store.subscription_record(row, f"telco:{row['customerID']}")
        session.add(Subscription(account_id=account.id, **record))
    session.flush()
    return account


def test_on_demand_churn_reasons_add_up(
    session: Session, telco_raw: pd.DataFrame, trained_root: Path
) -> None:
    account = _account(session, telco_raw, 0)
    result = service.score_account_churn(session, account.id, root=trained_root)
    assert result is not None and 0 < result.probability < 1
    log_odds = result.base_log_odds + sum(r.effect for r in result.reasons)
    assert abs(log_odds - math.log(result.probability / (1 - result.probability))) < 1e-6
    effects = [abs(r.effect) for r in result.reasons]
    assert effects == sorted(effects, reverse=True)
    assert all(r.effect > 0 for r in result.raising()) and result.model_version.startswith("churn-")


def test_invisible_missing_and_unscorable_accounts(
    session: Session, telco_raw: pd.DataFrame, trained_root: Path
) -> None:
    account = _account(session, telco_raw, 1)
    bare = _account(session, None, 2)
    assert service.score_account_churn(session, account.id, scope=Scope.anonymous()) is None
    assert service.score_account_churn(session, 999_999, root=trained_root) is None
    with pytest.raises(NotScorableError, match="no subscription"):
        service.score_account_churn(session, bare.id, root=trained_root)


def test_batch_scoring_writes_versioned_scores(
    session: Session, telco_raw: pd.DataFrame, trained_root: Path
) -> None:
    accounts = [_account(session, telco_raw, i) for i in range(5)]
    report = service.batch_score_churn(session, root=trained_root)
    session.commit()
    assert report.scored == 5
    rows = session.scalars(select(PredictionScore).where(PredictionScore.kind == "churn")).all()
    assert len(rows) == 5 and {r.model_version for r in rows} == {report.model_version}
    first = next(r for r in rows if r.account_id == accounts[0].id)
    on_demand = service.score_account_churn(session, accounts[0].id, root=trained_root)
    assert first.score == pytest.approx(on_demand.probability, abs=1e-6)
    reasons = first.reasons if isinstance(first.reasons, list) else json.loads(first.reasons)
    assert reasons and {"feature", "effect"} == set(reasons[0])
    assert first.scored_at.tzinfo is not None and first.scored_at <= datetime.now(UTC)


def test_schema_mismatch_refuses_to_score(
    session: Session, telco_raw: pd.DataFrame, trained_root: Path
) -> None:
    account = _account(session, telco_raw, 3)
    subscription = session.scalars(
        select(Subscription).where(Subscription.account_id == account.id)
    ).one()
    subscription.services = {k: v for k, v in subscription.services.items() if k != "TechSupport"}
    session.flush()
    with pytest.raises(SchemaMismatchError, match="TechSupport"):
        service.score_account_churn(session, account.id, root=trained_root)
    with pytest.raises(SchemaMismatchError, match="retrain"):
        store.check_schema(session, ["tenure", "Contract", "NPS"])


def test_unknown_category_in_store_is_scored(
    session: Session, telco_raw: pd.DataFrame, trained_root: Path
) -> None:
    account = _account(session, telco_raw, 4)
    subscription = session.scalars(
        select(Subscription).where(Subscription.account_id == account.id)
    ).one()
    subscription.contract = "Three year"
    session.flush()
    result = service.score_account_churn(session, account.id, root=trained_root)
    assert result.unknown_values == {"Contract": ["Three year"]}


def test_recommendations_and_next_best_action(
    session: Session, telco_raw: pd.DataFrame, trained_root: Path
) -> None:
    account = _account(session, None, 5)
    product = Product(sku="10001", name="Teapot", unit_price=Decimal("5.00"))
    session.add(product)
    session.flush()
    order = Order(
        number="ORD-900001", account_id=account.id, status=OrderStatus.delivered,
        placed_at=datetime(2011, 1, 1, tzinfo=UTC), total=Decimal("5.00"),
        lines=[OrderLine(product_id=product.id, quantity=1, unit_price=Decimal("5.00"))],
    )  # fmt: skip
    session.add(order)
    session.flush()
    recs = service.recommend_products(session, account.id, root=trained_root)
    assert [r.product for r in recs] == ["10002"]
    action = service.next_best_action(session, account.id, root=trained_root)
    assert action.churn is None and "item 10002" in action.action
    risky = _account(session, telco_raw, 6)
    action = service.next_best_action(session, risky.id, root=trained_root)
    assert action.churn is not None
    if action.churn.risk != "low":
        assert action.action in service.PLAYBOOK.values() and "churn risk" in action.why


def test_new_lead_gets_a_stored_score(session: Session) -> None:
    lead = Lead(name="Ana", email="ana@initech.example", company="Initech", need="demo and pricing")
    session.add(lead)
    session.flush()
    result = service.score_new_lead(session, lead.id)
    assert lead.score == pytest.approx(result.probability, abs=1e-4)
    assert service.score_new_lead(session, 999_999) is None


def test_store_nulls_are_handled(
    session: Session, telco_raw: pd.DataFrame, trained_root: Path
) -> None:
    account = _account(session, telco_raw, 7)
    subscription = session.scalars(
        select(Subscription).where(Subscription.account_id == account.id)
    ).one()
    subscription.total_charges, subscription.gender = None, None
    session.flush()
    result = service.score_account_churn(session, account.id, root=trained_root)
    assert result.unknown_values == {"gender": ["(missing)"]}
    subscription.tenure_months = None
    session.flush()
    with pytest.raises(NotScorableError, match="tenure"):
        service.score_account_churn(session, account.id, root=trained_root)
    report = service.batch_score_churn(session, root=trained_root)
    assert (report.scored, report.skipped) == (0, 1)


def test_order_history_from_the_store(session: Session) -> None:
    account = _account(session, None, 8)
    product = Product(sku="22423", name="Cake stand", unit_price=Decimal("12.75"))
    session.add(product)
    session.flush()
    session.add(
        Order(
            number="ORD-536365", account_id=account.id, status=OrderStatus.returned,
            placed_at=datetime(2011, 1, 1, 9, tzinfo=UTC), total=Decimal("25.50"),
            lines=[OrderLine(product_id=product.id, quantity=2, unit_price=Decimal("12.75"))],
        )
    )  # fmt: skip
    session.flush()
    lines = store.order_lines_frame(session)
    row = lines.iloc[0]
    assert (row.customer, row["product"], row.amount, bool(row.cancelled)) == (
        str(account.id),
        "22423",
        25.5,
        True,
    )
    assert row.date == pd.Timestamp("2011-01-01 09:00")


@pytest.fixture(scope="module")
def order_models_root(tmp_path_factory: pytest.TempPathFactory, retail_lines) -> Path:
    """Propensity (14-day horizon) and segment models fitted on a retail slice."""
    from predict import propensity, registry, segments

    root = tmp_path_factory.mktemp("order_models")
    cutoff = retail_lines["date"].min().normalize() + pd.Timedelta(days=20)
    x = propensity.features(retail_lines, cutoff)
    y = propensity.labels(retail_lines, x.index, cutoff, 14)
    model = propensity.PropensityModel(params={"horizon_days": 14}).fit(x, y)
    segment_model = segments.SegmentModel({"k_range": [3], "n_init": 2}).fit(
        segments.rfm(retail_lines)
    )
    for name, state in (
        (
            "propensity",
            {
                "scaler": model.scaler,
                "model": model.model,
                "params": model.params,
                "columns": list(propensity.FEATURES),
            },
        ),
        (
            "segments",
            {
                "scaler": segment_model.scaler,
                "kmeans": segment_model.kmeans,
                "names": segment_model.names,
                "params": segment_model.params,
            },
        ),
    ):
        manifest = registry.Manifest(
            name=name, version=registry.new_version(name, "0" * 64), data_sha256="0" * 64,
            data_source="test", metrics={}, features=[], params={}, created_at="2026-01-01",
        )  # fmt: skip
        registry.save(manifest, state, "# card", root)
    return root


def test_an_older_propensity_model_is_refused(
    session: Session, retail_lines: pd.DataFrame, tmp_path: Path
) -> None:
    """A model saved before the six-feature design (no column list) must not score."""
    from predict import propensity, registry

    cutoff = retail_lines["date"].min().normalize() + pd.Timedelta(days=20)
    x = propensity.features(retail_lines, cutoff)
    y = propensity.labels(retail_lines, x.index, cutoff, 14)
    model = propensity.PropensityModel(params={"horizon_days": 14}).fit(x, y)
    manifest = registry.Manifest(
        name="propensity", version=registry.new_version("propensity", "0" * 64),
        data_sha256="0" * 64, data_source="test", metrics={}, features=[], params={},
        created_at="2026-01-01",
    )  # fmt: skip
    state = {"scaler": model.scaler, "model": model.model, "params": model.params}
    registry.save(manifest, state, "# card", tmp_path)
    with pytest.raises(SchemaMismatchError, match="retrain"):
        service.batch_score_propensity(session, root=tmp_path)


def test_batch_propensity_and_segments(session: Session, order_models_root: Path) -> None:
    product = Product(sku="22423", name="Cake stand", unit_price=Decimal("12.75"))
    session.add(product)
    session.flush()
    accounts = [_account(session, None, 20 + i) for i in range(2)]
    price = Decimal("12.75")
    for i, account in enumerate(accounts):
        for j in range(i + 1):
            session.add(
                Order(
                    number=f"ORD-7{i}{j}", account_id=account.id, status=OrderStatus.delivered,
                    placed_at=datetime(2026, 1, 1 + j, tzinfo=UTC), total=price,
                    lines=[OrderLine(product_id=product.id, quantity=1, unit_price=price)],
                )
            )  # fmt: skip
    session.flush()
    as_of = datetime(2026, 2, 1, tzinfo=UTC)
    report = service.batch_score_propensity(session, as_of=as_of, root=order_models_root)
    assert report.scored == 2
    seg = service.batch_score_segments(session, as_of=as_of, root=order_models_root)
    assert seg.scored == 2
    rows = session.scalars(select(PredictionScore).order_by(PredictionScore.id)).all()
    kinds = sorted(r.kind for r in rows)
    assert kinds == ["propensity", "propensity", "segment", "segment"]
    for row in rows:
        reasons = row.reasons if isinstance(row.reasons, list) else json.loads(row.reasons)
        if row.kind == "propensity":
            assert 0 <= row.score <= 1 and row.label in ("likely", "unlikely")
        else:
            assert row.score is None and row.label and {r["feature"] for r in reasons} == {
                "recency_days", "frequency", "monetary"
            }  # fmt: skip


def test_batch_workers_give_the_same_scores(
    session: Session, telco_raw: pd.DataFrame, trained_root: Path
) -> None:
    for i in range(9, 14):
        _account(session, telco_raw, i)
    one = service.batch_score_churn(session, root=trained_root, chunk_size=2)
    two = service.batch_score_churn(session, root=trained_root, chunk_size=2, workers=2)
    assert one.scored == two.scored == 5
    rows = session.scalars(select(PredictionScore).order_by(PredictionScore.id)).all()
    first, second = rows[:5], rows[5:]
    assert [(r.account_id, r.score, r.label, r.reasons) for r in first] == [
        (r.account_id, r.score, r.label, r.reasons) for r in second
    ]


def test_next_best_action_without_models(session: Session, tmp_path: Path) -> None:
    account = _account(session, None, 30)
    action = service.next_best_action(session, account.id, root=tmp_path / "empty")
    assert action.churn is None and action.recommendations == []
    assert "check-in" in action.action
    assert service.next_best_action(session, 999_999, root=tmp_path) is None
