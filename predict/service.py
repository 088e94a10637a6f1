"""What the bot, rules and the CLI call: one account or lead at a time, or a batch.

All functions take an open SQLAlchemy session; with a `scope`, an account the scope may not
see is treated as missing (None), exactly like `crm_store.queries`. Models are loaded from
the registry on first use and reloaded when a newer version is registered.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Account, Lead, Order, OrderLine, Product
from crm_store.queries.accounts import get_account
from crm_store.scope import Scope
from predict import (
    crossings,
    leads,
    propensity,
    recommend,
    registry,
    segments,
    sentiment,
    store,
    telco,
)
from predict.bounds import score_bounds
from predict.churn import ChurnModel
from predict.errors import ModelNotFoundError, NotScorableError, SchemaMismatchError
from predict.reasons import Reason, telco_reasons
from predict.training import rules_from_state

HIGH_RISK = 0.5
MEDIUM_RISK = 0.3
_cache: dict[tuple[str, str], tuple[registry.Manifest, Any]] = {}


def _latest(name: str, root: Path | None, build: Callable[[dict[str, Any]], Any]):
    # Reading LATEST is cheap; a new version registered by `crm predict train` is picked
    # up on the next call without restarting the action server.
    latest = (root or registry.models_dir()) / name / "LATEST"
    version = latest.read_text().strip() if latest.exists() else None
    if version and (name, version) in _cache:
        return _cache[(name, version)]
    manifest, state = registry.load(name, version, root=root)
    _cache[(name, manifest.version)] = (manifest, build(state))
    return _cache[(name, manifest.version)]


def load_churn(root: Path | None = None) -> tuple[registry.Manifest, ChurnModel]:
    """Return the latest churn model and its manifest (cached per version)."""
    return _latest("churn", root, ChurnModel.from_state)


def load_rules(root: Path | None = None) -> tuple[registry.Manifest, tuple[pd.DataFrame, dict]]:
    """Return the latest bought-together rules and SKU names (cached per version)."""
    return _latest("recommendations", root, rules_from_state)


@dataclass(frozen=True)
class ChurnResult:
    """Churn risk of one account.

    Attributes:
        account_id: the CRM account.
        probability: calibrated churn probability in [0, 1].
        reasons: every feature's contribution, largest absolute effect first;
            `base_log_odds + sum(r.effect)` equals the log-odds of `probability`.
        base_log_odds: log-odds of an average training customer.
        model_version: the registry version that produced the score.
        scored_at: when it was computed (UTC).
        unknown_values: category values the model never saw, per column (scored as unseen).
    """

    account_id: int
    probability: float
    reasons: list[Reason]
    base_log_odds: float
    model_version: str
    scored_at: datetime
    unknown_values: dict[str, list[str]] = field(default_factory=dict)

    @property
    def risk(self) -> str:
        """'high' (>= 0.5), 'medium' (>= 0.3) or 'low'."""
        if self.probability >= HIGH_RISK:
            return "high"
        return "medium" if self.probability >= MEDIUM_RISK else "low"

    def raising(self, n: int = 3) -> list[Reason]:
        """The n reasons that raise the risk most, largest first."""
        return [r for r in self.reasons if r.effect > 0][:n]

    def lowering(self, n: int = 3) -> list[Reason]:
        """The n reasons that lower the risk most, largest first."""
        return [r for r in self.reasons if r.effect < 0][:n]


def _visible(session: Session, account_id: int, scope: Scope | None) -> bool:
    if scope is None:
        return True
    return get_account(session=session, scope=scope, account_id=account_id) is not None


def score_account_churn(
    session: Session, account_id: int, *, scope: Scope | None = None, root: Path | None = None
) -> ChurnResult | None:
    """Score one account on demand (for the bot).

    Returns:
        Churn probability in [0, 1] and the reasons, largest contribution first; None when
        the account does not exist or `scope` may not see it.

    Raises:
        NotScorableError: the account has no subscription data to score.
        SchemaMismatchError: the store no longer matches the model's inputs.
        ModelNotFoundError: no churn model has been trained.
    """
    if not _visible(session, account_id, scope):
        return None
    manifest, model = load_churn(root)
    store.check_schema(session, manifest.features)
    raw = store.subscription_frame(session, [account_id])
    if raw.empty:
        if session.get(Account, account_id) is None:
            return None
        raise NotScorableError(f"account {account_id} has no subscription data to score churn")
    for column in ("tenure", "MonthlyCharges"):
        if raw[column].isna().any():
            raise NotScorableError(f"account {account_id} has no {column} on its subscription")
    rows = telco.clean(raw)
    log_odds, contributions = model.explain(rows)
    row = rows.iloc[0].to_dict()
    return ChurnResult(
        account_id=account_id,
        probability=float(1.0 / (1.0 + np.exp(-log_odds[0]))),
        reasons=telco_reasons(row, list(contributions[0])),
        base_log_odds=model.base_log_odds,
        model_version=manifest.version,
        scored_at=datetime.now(UTC),
        unknown_values=telco.unknown_categories(rows),
    )


# -- next best action ---------------------------------------------------------------------
# What a rep can do about each driver of risk (feature, value) -> action.
PLAYBOOK: dict[tuple[str, str], str] = {
    ("Contract", "Month-to-month"): "Offer a discounted one- or two-year contract.",
    ("PaymentMethod", "Electronic check"): "Suggest automatic payment (card or bank transfer).",
    ("TechSupport", "No"): "Offer a free tech-support trial and check open issues.",
    ("OnlineSecurity", "No"): "Offer the online-security add-on at a trial price.",
    ("InternetService", "Fiber optic"): "Review fiber price and service quality with them.",
    ("tenure", "*"): "Schedule an onboarding check-in: new customers leave most often.",
    ("PaperlessBilling", "Yes"): "Confirm they receive and understand their bills.",
    ("MonthlyCharges", "*"): "Review the plan: they may be paying for more than they use.",
}


@dataclass(frozen=True)
class NextBestAction:
    """What a rep should do next for an account, and why.

    Attributes:
        action: one sentence a rep can act on.
        why: the reason behind it, in a rep's words.
        churn: the churn result it is based on, when the account has subscription data.
        recommendations: products to offer, when the account has order history.
    """

    action: str
    why: str
    churn: ChurnResult | None
    recommendations: list[recommend.Recommendation]


def _action_for(reason: Reason) -> str | None:
    return PLAYBOOK.get((reason.feature, str(reason.value))) or PLAYBOOK.get((reason.feature, "*"))


def retention_action(churn: ChurnResult, drivers: int = 5) -> tuple[str, Reason] | None:
    """The playbook action for the strongest risk driver that has one.

    Returns:
        The action and the reason it answers; None when the risk is low or no driver among
        the top `drivers` has a playbook entry.
    """
    if churn.risk == "low":
        return None
    for reason in churn.raising(drivers):
        action = _action_for(reason)
        if action:
            return action, reason
    return None


def next_best_action(
    session: Session, account_id: int, *, scope: Scope | None = None, root: Path | None = None
) -> NextBestAction | None:
    """Choose the rep's next step: fix the top churn driver, else cross-sell, else check in.

    Returns:
        The action and its reason; None when the account is missing or not visible.
    """
    if not _visible(session, account_id, scope):
        return None
    if session.get(Account, account_id) is None:
        return None
    # A missing model or missing inputs narrow the advice; they do not stop it.
    try:
        churn = score_account_churn(session, account_id, root=root)
    except (NotScorableError, ModelNotFoundError):
        churn = None
    try:
        products = recommend_products(session, account_id, root=root, k=3) or []
    except ModelNotFoundError:
        products = []
    retention = retention_action(churn) if churn is not None else None
    if churn is not None and retention is not None:
        action, reason = retention
        why = f"{churn.risk} churn risk ({churn.probability:.0%}), driven by {reason.text}"
        return NextBestAction(action, why, churn, products)
    if products:
        why = f"low churn risk; {products[0].text}"
        return NextBestAction(f"Offer {products[0].name}.", why, churn, products)
    return NextBestAction(
        "Routine check-in: no risk signal or cross-sell found.", "nothing stands out", churn, []
    )


# -- recommendations ----------------------------------------------------------------------
def owned_products(session: Session, account_id: int) -> set[str]:
    """SKUs the account has ever ordered."""
    query = (
        select(Product.sku)
        .join(OrderLine, OrderLine.product_id == Product.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.account_id == account_id)
        .distinct()
    )
    return {sku.upper() for sku in session.scalars(query)}


def recommend_products(
    session: Session,
    account_id: int,
    *,
    scope: Scope | None = None,
    k: int = 5,
    root: Path | None = None,
) -> list[recommend.Recommendation] | None:
    """Products bought together with what the account has, excluding what it has.

    Returns:
        Up to k recommendations, best confidence first (empty without order history);
        None when the account is missing or not visible.
    """
    if not _visible(session, account_id, scope):
        return None
    _, (rules, names) = load_rules(root)
    return recommend.recommend(rules, owned_products(session, account_id), names, k=k)


# -- leads and messages -------------------------------------------------------------------
def score_new_lead(session: Session, lead_id: int) -> leads.LeadScore | None:
    """Score a lead from the lead form and store the probability on `Lead.score`.

    Returns:
        The score with its reasons; None when the lead does not exist.
    """
    lead = session.get(Lead, lead_id)
    if lead is None:
        return None
    result = leads.score_lead(lead.email, lead.company, lead.need)
    lead.score = round(result.probability, 4)
    return result


def message_sentiment(text: str) -> sentiment.Sentiment:
    """Sentiment of one customer message (offline VADER); `upset` suggests a handoff."""
    return sentiment.analyze(text)


# -- batch ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class BatchReport:
    """Outcome of a batch scoring run.

    Attributes:
        events: `score_crossed` events written for the rules engine (scores that moved
            across a bound in `config/score_bounds.yml`).
    """

    kind: str
    model_version: str
    scored: int
    skipped: int
    seconds: float
    events: int = 0


def _score_churn_chunk(state: dict[str, Any], raw: pd.DataFrame) -> tuple[list, list, list, list]:
    """Clean, score and explain one chunk; runs in a worker process when workers > 1.

    Returns:
        Account ids, probabilities, risk labels and reasons JSON, aligned.
    """
    model = ChurnModel.from_state(state)
    part = telco.clean(raw)
    log_odds, contributions = model.explain(part)
    probability = 1.0 / (1.0 + np.exp(-log_odds))
    labels = np.where(
        probability >= HIGH_RISK, "high", np.where(probability >= MEDIUM_RISK, "medium", "low")
    )
    reasons = store.reasons_json(contributions, telco.FEATURES)
    return part.index.tolist(), np.round(probability, 6).tolist(), labels.tolist(), reasons


def batch_score_churn(
    session: Session,
    *,
    root: Path | None = None,
    chunk_size: int = 125_000,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> BatchReport:
    """Score every subscription and append `PredictionScore` rows (kind "churn").

    Each row stores the probability, the risk label, the model version and the top three
    raising and lowering reasons. Refuses to run when the store does not match the model.
    With `workers > 1`, chunks are scored in forked worker processes while this process
    writes finished chunks; reads and writes stay in the caller's session and transaction.

    Returns:
        How many accounts were scored, with which model version, in how many seconds.
    """
    started = time.perf_counter()
    manifest, model = load_churn(root)
    store.check_schema(session, manifest.features)
    raw = store.subscription_frame(session)
    # Without tenure or monthly charges there is nothing to score; skip and count them.
    complete = raw["tenure"].notna() & raw["MonthlyCharges"].notna()
    skipped = int((~complete).sum())
    raw = raw[complete] if skipped else raw
    total, state = len(raw), model.to_state()
    chunks = [raw.iloc[i : i + chunk_size] for i in range(0, total, chunk_size)]
    # Read before writing: a crossing compares each new score with the one it replaces.
    bounds = score_bounds("churn")
    previous = crossings.previous_scores(session, "churn") if bounds else {}
    done = events = 0
    for ids, probability, labels, reasons in _map_chunks(state, chunks, workers):
        version = [manifest.version] * len(ids)
        kind = ["churn"] * len(ids)
        store.write_scores(
            session, list(zip(ids, kind, probability, labels, version, reasons, strict=True))
        )
        events += crossings.record_crossings(session, "churn", ids, probability, previous, bounds)
        done += len(ids)
        if progress:
            progress(done, total)
    seconds = round(time.perf_counter() - started, 2)
    return BatchReport("churn", manifest.version, total, skipped, seconds, events)


def _map_chunks(state: dict[str, Any], chunks: list[pd.DataFrame], workers: int):
    """Yield scored chunks in order, from this process or from a pool of forked workers."""
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            yield _score_churn_chunk(state, chunk)
        return
    # fork: workers inherit the imported modules, so start-up costs milliseconds; they never
    # touch the database connection, which stays with this process.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_score_churn_chunk, state, chunk) for chunk in chunks]
        for future in futures:
            yield future.result()


def _propensity_model(state: dict[str, Any]) -> propensity.PropensityModel:
    # Models saved before the six-feature design carry no column list (and 15 weights).
    columns = tuple(state.get("columns") or ())
    if columns != propensity.FEATURES:
        raise SchemaMismatchError(
            f"propensity model wants features {list(columns) or 'of an older design'}, "
            f"this code computes {list(propensity.FEATURES)}; retrain with "
            "`crm predict train propensity`"
        )
    return propensity.PropensityModel(
        columns=columns, params=state["params"], scaler=state["scaler"], model=state["model"]
    )


def _segment_model(state: dict[str, Any]) -> segments.SegmentModel:
    return segments.SegmentModel(
        params=state["params"], scaler=state["scaler"], kmeans=state["kmeans"], names=state["names"]
    )


def _order_history(session: Session, as_of: datetime | None) -> tuple[pd.DataFrame, pd.Timestamp]:
    lines = store.order_lines_frame(session)
    # Order dates are naive UTC in the line frame; compare like with like.
    cutoff = pd.Timestamp(as_of or datetime.now(UTC)).tz_convert(None)
    return lines, cutoff


def batch_score_propensity(
    session: Session, *, as_of: datetime | None = None, root: Path | None = None
) -> BatchReport:
    """Score every account with orders: probability of ordering in the next 90 days.

    Writes `PredictionScore` rows (kind "propensity", label "likely" when p >= 0.5) with the
    top three raising and lowering reasons. `as_of` defaults to now (UTC).
    """
    started = time.perf_counter()
    manifest, model = _latest("propensity", root, _propensity_model)
    lines, cutoff = _order_history(session, as_of)
    x = propensity.features(lines, cutoff)
    if x.empty:
        return BatchReport("propensity", manifest.version, 0, 0, 0.0)
    log_odds, terms, _ = model.explain(x)
    probability = 1.0 / (1.0 + np.exp(-log_odds))
    labels = np.where(probability >= HIGH_RISK, "likely", "unlikely")
    reasons = store.reasons_json(terms, propensity.FEATURES)
    rows = [
        (int(account), "propensity", round(float(p), 6), str(label), manifest.version, r)
        for account, p, label, r in zip(x.index, probability, labels, reasons, strict=True)
    ]
    store.write_scores(session, rows)
    seconds = round(time.perf_counter() - started, 2)
    return BatchReport("propensity", manifest.version, len(rows), 0, seconds)


def batch_score_segments(
    session: Session, *, as_of: datetime | None = None, root: Path | None = None
) -> BatchReport:
    """Give every account with orders its segment name (`PredictionScore.label`).

    The reasons hold the account's RFM values, so a rep can see why it landed there.
    """
    started = time.perf_counter()
    manifest, model = _latest("segments", root, _segment_model)
    lines, cutoff = _order_history(session, as_of)
    frame = segments.rfm(lines, cutoff) if len(lines) else pd.DataFrame()
    if frame.empty:
        return BatchReport("segments", manifest.version, 0, 0, 0.0)
    names = model.predict(frame)
    rows = [
        (
            int(account),
            "segment",
            None,
            name,
            manifest.version,
            json.dumps(
                [
                    {"feature": f, "value": float(v)}
                    for f, v in zip(segments.RFM, values, strict=True)
                ]
            ),
        )
        for account, name, values in zip(frame.index, names, frame.to_numpy(), strict=True)
    ]
    store.write_scores(session, rows)
    seconds = round(time.perf_counter() - started, 2)
    return BatchReport("segments", manifest.version, len(rows), 0, seconds)
