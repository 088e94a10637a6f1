"""Prediction actions against a real seeded database and real (small) trained models.

Models are trained once per session from slices of the real data sets into a private registry
(`CRM_MODELS_DIR`); the demo company's subscriptions (see `crm_store.demo`) are what they score.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from bot_support import customer_identity, entity, make_tracker, rep_identity, responses, run
from sqlalchemy import delete, select

from bot.actions.predictions import (
    ActionAtRiskAccounts,
    ActionChurnRisk,
    ActionNextBestAction,
    ActionWhatToOffer,
)
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.models import (
    Account,
    Order,
    OrderLine,
    OrderStatus,
    PredictionScore,
    Product,
    Subscription,
    Task,
    TaskStatus,
    User,
)
from predict import retail, segments, service, training

TELCO_ROWS = 900
RETAIL_ROWS = 60_000
ACME = DEMO_CREDENTIALS.rep_account_name
OTHER_REPS_ACCOUNT = "Globex Corporation"


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with churn, recommendations and segments trained on real data slices."""
    root = tmp_path_factory.mktemp("bot-models")
    telco = pd.read_csv(training.TELCO_PATH, dtype=str, keep_default_na=False, nrows=TELCO_ROWS)
    training.train("churn", rows=telco, root=root)
    lines = retail.read_csv(retail.DEFAULT_PATH, nrows=RETAIL_ROWS)
    training.train("recommendations", rows=lines, root=root)
    training.train("segments", rows=lines, root=root)
    return root


@pytest.fixture
def models(trained_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the trained registry that the actions use (tests may delete parts)."""
    root = tmp_path / "models"
    shutil.copytree(trained_models, root)
    monkeypatch.setenv("CRM_MODELS_DIR", str(root))
    return root


@pytest.fixture
def no_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty registry: nothing has been trained."""
    root = tmp_path / "empty-models"
    monkeypatch.setenv("CRM_MODELS_DIR", str(root))
    return root


def ask(text: str, intent: str, account: str | None = None, crm: dict | None = None):  # noqa: ANN201
    entities = [entity(text, "account", account)] if account else []
    return make_tracker(text, intent, entities=entities, crm=crm or rep_identity())


def account_id(name: str) -> int:
    with session_scope() as session:
        return session.scalars(select(Account.id).where(Account.name == name)).one()


def live_score(name: str) -> service.ChurnResult:
    with session_scope() as session:
        result = service.score_account_churn(session, account_id(name))
    assert result is not None
    return result


async def test_churn_risk_is_the_models_probability_with_reasons(
    crm_db: str, models: Path, domain: dict
) -> None:
    _, messages = await run(ActionChurnRisk(), ask(f"churn risk for {ACME}", "churn_risk", ACME),
                            domain)  # fmt: skip
    assert responses(messages) == ["utter_churn_score", "utter_churn_explained"]
    truth = live_score(ACME)
    assert messages[0]["score"] == f"{truth.probability:.0%}"
    assert messages[0]["label"] == truth.risk
    assert messages[0]["model_version"] == (models / "churn" / "LATEST").read_text().strip()
    assert messages[0]["scored_on"].endswith("UTC")
    assert truth.raising(1)[0].text in messages[1]["raising"]
    assert truth.lowering(1)[0].text in messages[1]["lowering"]
    # The demo pins Acme Corp to a month-to-month contract: it must show as a risk driver.
    assert "month-to-month contract" in messages[1]["raising"]


async def test_churn_risk_is_for_reps_and_their_own_accounts(
    crm_db: str, models: Path, domain: dict
) -> None:
    customer = ask(f"churn risk for {ACME}", "churn_risk", ACME, crm=customer_identity())
    _, messages = await run(ActionChurnRisk(), customer, domain)
    assert responses(messages) == ["utter_rep_only"]
    other = ask(f"churn risk for {OTHER_REPS_ACCOUNT}", "churn_risk", OTHER_REPS_ACCOUNT)
    _, messages = await run(ActionChurnRisk(), other, domain)
    assert responses(messages) == ["utter_account_not_found"]


async def test_without_a_model_or_score_no_figure_is_given(
    crm_db: str, no_models: Path, domain: dict
) -> None:
    with session_scope() as session:
        session.execute(delete(PredictionScore))
    tracker = ask(f"what should I offer {ACME}", "what_to_offer", ACME)
    _, messages = await run(ActionWhatToOffer(), tracker, domain)
    assert responses(messages) == ["utter_offer_no_rules", "utter_offer_nothing"]
    _, messages = await run(ActionChurnRisk(), ask(f"churn {ACME}", "churn_risk", ACME), domain)
    assert responses(messages) == ["utter_churn_unavailable"]
    assert not any("%" in str(value) for m in messages for value in m.values())


async def test_an_account_without_subscription_is_not_scorable(
    crm_db: str, models: Path, domain: dict
) -> None:
    with session_scope() as session:
        session.execute(delete(Subscription).where(Subscription.account_id == account_id(ACME)))
        session.execute(delete(PredictionScore))
    _, messages = await run(ActionChurnRisk(), ask(f"churn {ACME}", "churn_risk", ACME), domain)
    assert responses(messages) == ["utter_churn_not_scorable"]


async def test_next_best_action_answers_the_top_driver_with_segment_and_tasks(
    crm_db: str, models: Path, domain: dict
) -> None:
    target = account_id(ACME)
    with session_scope() as session:
        service.batch_score_segments(session)
        open_titles = list(session.scalars(
            select(Task.title)
            .where(Task.account_id == target, Task.status == TaskStatus.open)
            .order_by(Task.due_at, Task.id)
        ))  # fmt: skip
        segment = session.scalars(
            select(PredictionScore.label).where(
                PredictionScore.account_id == target, PredictionScore.kind == "segment"
            )
        ).one()
    tracker = ask(f"next best action for {ACME}", "next_best_action", ACME)
    _, messages = await run(ActionNextBestAction(), tracker, domain)
    names = responses(messages)
    assert names[:3] == ["utter_nba", "utter_churn_score", "utter_churn_explained"]
    truth = live_score(ACME)
    action = service.retention_action(truth)
    assert action is not None and messages[0]["action"] == action[0]
    assert action[1].text in messages[0]["why"]
    by_name = {m["response"]: m for m in messages}
    assert by_name["utter_segment_playbook"]["segment"] == segment
    assert by_name["utter_segment_playbook"]["playbook"] == segments.playbook(segment)
    assert open_titles, "the demo gives Acme Corp open tasks"
    assert by_name["utter_open_tasks"]["tasks"].startswith(open_titles[0])


def _give_product(account: int, sku: str) -> None:
    """A delivered order of one real retail product for the account."""
    with session_scope() as session:
        owner = session.get(Account, account)
        assert owner is not None
        product = Product(sku=sku, name=f"retail {sku}", category="Retail", unit_price=Decimal(2))
        order = Order(
            number="ORD-999001", account_id=account, email="buyer@example.com",
            status=OrderStatus.delivered, placed_at=datetime(2026, 1, 5, tzinfo=UTC),
            currency="USD", total=Decimal(2),
        )  # fmt: skip
        session.add(product)
        session.flush()
        order.lines.append(OrderLine(product_id=product.id, quantity=1, unit_price=Decimal(2)))
        session.add(order)


async def test_what_to_offer_gives_a_retention_offer_and_bought_together_products(
    crm_db: str, models: Path, domain: dict
) -> None:
    _, (rules, names) = service.load_rules()
    best = rules.sort_values(["confidence", "antecedent"], ascending=[False, True]).iloc[0]
    target = account_id(ACME)
    _give_product(target, str(best["antecedent"]))
    tracker = ask(f"what should I offer {ACME}?", "what_to_offer", ACME)
    _, messages = await run(ActionWhatToOffer(), tracker, domain)
    by_name = {m["response"]: m for m in messages}
    assert set(by_name) >= {"utter_offer_retention", "utter_offer_products"}
    truth = live_score(ACME)
    assert by_name["utter_offer_retention"]["score"] == f"{truth.probability:.0%}"
    with session_scope() as session:
        expected = service.recommend_products(session, target, k=3)
    assert expected
    assert str(best["consequent"]) in {r.product for r in expected}
    assert all((r.name or r.product) in by_name["utter_offer_products"]["products"]
               for r in expected)  # fmt: skip


async def test_at_risk_ranks_the_reps_batch_scores_with_their_driver(
    crm_db: str, models: Path, domain: dict
) -> None:
    with session_scope() as session:
        session.execute(delete(PredictionScore))
        report = service.batch_score_churn(session)
        rep = session.scalars(select(User).where(User.email == DEMO_CREDENTIALS.rep_email)).one()
        own = set(session.scalars(select(Account.name).where(Account.owner_id == rep.id)))
    assert report.scored > 0
    _, messages = await run(ActionAtRiskAccounts(), ask("at-risk accounts", "at_risk_accounts"),
                            domain)  # fmt: skip
    assert responses(messages)[0] == "utter_at_risk_header"
    lines = messages[1:]
    assert lines and {m["account"] for m in lines} <= own
    shown = [float(m["score"].rstrip("%")) for m in lines]
    assert shown == sorted(shown, reverse=True)
    assert all(m["model_version"] == report.model_version for m in lines)
    assert all(m["driver"] != "n/a" for m in lines if m["label"] != "low")


async def test_a_model_that_no_longer_matches_the_store_is_refused_without_a_figure(
    crm_db: str, models: Path, domain: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = models / "churn" / (models / "churn" / "LATEST").read_text().strip()
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["features"] = [*manifest["features"], "NumberOfCalls"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    # Same version, edited manifest: start from an empty model cache (restored afterwards).
    monkeypatch.setattr(service, "_cache", {})
    actions = (
        (ActionChurnRisk(), "churn_risk"),
        (ActionWhatToOffer(), "what_to_offer"),
        (ActionNextBestAction(), "next_best_action"),
    )
    for action, intent in actions:
        _, messages = await run(action, ask(f"{intent} {ACME}", intent, ACME), domain)
        assert responses(messages) == ["utter_prediction_refused"]
        assert not any("%" in str(value) for m in messages for value in m.values())
