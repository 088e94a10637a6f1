"""Batch churn scoring writes one `score_crossed` event per crossing, and none on a re-score
at the same level (real SQLite and PostgreSQL, a real trained model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Account, CrmEvent, PredictionScore, Subscription
from predict import crossings, service, store, training
from predict.bounds import BoundsError, score_bounds

ACCOUNTS = 12


@pytest.fixture(scope="module")
def churn_root(tmp_path_factory: pytest.TempPathFactory, telco_raw: pd.DataFrame) -> Path:
    """A registry holding one churn model, trained once for this module."""
    root = tmp_path_factory.mktemp("models")
    training.train("churn", rows=telco_raw.head(300), root=root)
    return root


@pytest.fixture
def scored(
    session: Session,
    telco_raw: pd.DataFrame,
    churn_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[dict[int, float], float]:
    """Accounts with subscriptions, their true churn probability, and a bound between them
    (written to a bounds file the scorer reads), so some accounts are above and some below."""
    probabilities = {}
    for i in range(ACCOUNTS):
        account = Account(name=f"Crossing {i}", external_ref=f"crossing:{i}")
        session.add(account)
        session.flush()
        row = telco_raw.iloc[i].to_dict()
        session.add(
            Subscription(
                account_id=account.id,
                **store.subscription_record(row, f"telco:{row['customerID']}"),
            )
        )
        session.flush()
        result = service.score_account_churn(session, account.id, root=churn_root)
        probabilities[account.id] = result.probability
    ordered = sorted(probabilities.values())
    middle = len(ordered) // 2
    bound = round((ordered[middle - 1] + ordered[middle]) / 2, 6)
    assert ordered[middle - 1] < bound < ordered[middle]
    bounds = tmp_path / "score_bounds.yml"
    bounds.write_text(f"churn: [{bound}]\n", encoding="utf-8")
    monkeypatch.setenv("CRM_SCORE_BOUNDS", str(bounds))
    return probabilities, bound


def _crossings(session: Session) -> list[CrmEvent]:
    stmt = select(CrmEvent).where(CrmEvent.type == "score_crossed").order_by(CrmEvent.id)
    return list(session.scalars(stmt))


def _set_scores(session: Session, account_ids: list[int], score: float) -> None:
    session.add_all(
        PredictionScore(account_id=a, kind="churn", score=score, model_version="t")
        for a in account_ids
    )
    session.flush()


def test_a_first_score_above_the_bound_is_one_event_and_a_rescore_is_none(
    session: Session, churn_root: Path, scored: tuple[dict[int, float], float]
) -> None:
    probabilities, bound = scored
    above = {a for a, p in probabilities.items() if p >= bound}
    report = service.batch_score_churn(session, root=churn_root)
    session.commit()
    events = _crossings(session)
    assert report.events == len(events) == len(above) == ACCOUNTS // 2
    assert {e.subject_id for e in events} == above
    for event in events:
        assert event.payload["bound"] == bound and event.payload["direction"] == "up"
        assert event.payload["previous"] is None and event.status == "pending"
        assert event.dedupe_key.endswith(":first")
    again = service.batch_score_churn(session, root=churn_root)
    session.commit()
    assert again.events == 0 and len(_crossings(session)) == len(above)


def test_moves_across_the_bound_up_and_down_each_emit_once(
    session: Session, churn_root: Path, scored: tuple[dict[int, float], float]
) -> None:
    probabilities, bound = scored
    ids = sorted(probabilities)
    _set_scores(session, ids, 0.0)  # everyone was safe: the high ones now cross upwards
    assert service.batch_score_churn(session, root=churn_root).events == ACCOUNTS // 2
    _set_scores(session, ids, 0.999)  # everyone was at risk: the low ones cross downwards
    assert service.batch_score_churn(session, root=churn_root).events == ACCOUNTS // 2
    session.commit()
    events = _crossings(session)
    up = {e.subject_id for e in events if e.payload["direction"] == "up"}
    down = {e.subject_id for e in events if e.payload["direction"] == "down"}
    assert up == {a for a, p in probabilities.items() if p >= bound}
    assert down == {a for a, p in probabilities.items() if p < bound}
    assert {e.payload["previous"] for e in events} == {0.0, 0.999}
    assert service.batch_score_churn(session, root=churn_root).events == 0


def test_the_same_crossing_recorded_twice_is_one_event(
    session: Session,
    scored: tuple[dict[int, float], float],
) -> None:
    probabilities, bound = scored
    account = min(probabilities)
    _set_scores(session, [account], 0.0)
    previous = crossings.previous_scores(session, "churn")
    for _ in range(2):  # two scoring runs that started from the same stored scores
        written = crossings.record_crossings(session, "churn", [account], [0.9], previous, (bound,))
    session.commit()
    assert written == 0 and len(_crossings(session)) == 1


def test_crossing_mask_matches_the_store_rule() -> None:
    previous = np.array([np.nan, np.nan, 0.4, 0.6, 0.8, 0.6])
    scores = np.array([0.3, 0.75, 0.75, 0.65, 0.6, 0.4])
    assert crossings.crossing_mask(previous, scores, (0.5, 0.7)).tolist() == [
        False,
        True,
        True,
        False,
        True,
        True,
    ]


def test_bad_bounds_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "bounds.yml"
    path.write_text("churn: [0.5, 1.5]\n", encoding="utf-8")
    with pytest.raises(BoundsError, match="between 0 and 1"):
        score_bounds("churn", path)
    path.write_text("- 0.5\n", encoding="utf-8")
    with pytest.raises(BoundsError, match="mapping"):
        score_bounds("churn", path)
    path.write_text("churn: [0.7, 0.5]\n", encoding="utf-8")
    assert score_bounds("churn", path) == (0.5, 0.7) and score_bounds("lead_score", path) == ()
