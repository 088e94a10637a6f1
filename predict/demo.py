"""Real figures for `crm demo run`: churn from the Telco file; segments and bought-together
rules from the demo orders.

The demo accounts carry Telco-shaped subscriptions (see `crm_store.demo`), so the churn model
trained on the IBM Telco sample can score them. Segments are trained on the demo company's own
orders (B2B amounts are far from Online Retail's, so retail centres would fit them badly), and
so are the recommendations: Online Retail's stock codes are not the demo's SKUs, so rules
mined there could never name a product a demo account can buy.
Training is skipped when the registry's latest model was trained on the same data (same
SHA-256), and scoring is skipped when every account already has a score from that version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.models import PredictionScore, Subscription
from predict import registry, service, store, training
from predict.errors import ModelNotFoundError


@dataclass(frozen=True)
class DemoPredictions:
    """What the demo step did, for the CLI to print.

    Attributes:
        model_version: the churn model the demo accounts are scored with.
        trained: True when a model was trained in this run (False: reused from the registry).
        scored: churn scores written in this run (0: they were already there).
        segments_version: the segment model used; None when the demo has no orders.
        segmented: segment scores written in this run.
        recommendations_version: the bought-together rules; None without orders.
    """

    model_version: str
    trained: bool
    scored: int
    segments_version: str | None = None
    segmented: int = 0
    recommendations_version: str | None = None


def ensure_churn_model(
    data: Path = training.TELCO_PATH, root: Path | None = None
) -> tuple[str, bool]:
    """The latest churn model trained on `data`, training one only when there is none.

    Returns:
        The model version and whether it was trained now.

    Raises:
        InputDataError: the data file is missing or unusable.
    """
    digest = registry.file_sha256(data) if data.exists() else None
    try:
        manifest, _ = service.load_churn(root)
    except ModelNotFoundError:
        manifest = None
    if manifest is not None and manifest.data_sha256 == digest:
        return manifest.version, False
    return training.train("churn", data=data, root=root).version, True


def ensure_segments_model(session: Session, root: Path | None = None) -> str | None:
    """The latest segment model trained on the store's current orders, training if needed.

    Returns:
        The model version; None when the store has no orders to learn from.
    """
    return _ensure_store_model("segments", session, root)


def ensure_recommendations_model(session: Session, root: Path | None = None) -> str | None:
    """The latest bought-together rules mined from the store's orders, mining if needed.

    Returns:
        The model version; None when the store has no orders to learn from.
    """
    return _ensure_store_model("recommendations", session, root)


def _ensure_store_model(name: str, session: Session, root: Path | None) -> str | None:
    """Train model `name` on the store's orders unless its latest version saw the same ones."""
    lines = store.order_lines_frame(session)
    if lines.empty:
        return None
    digest = training.frame_sha256(lines)
    try:
        manifest, _ = registry.load(name, root=root)
    except ModelNotFoundError:
        manifest = None
    if manifest is not None and manifest.data_sha256 == digest:
        return manifest.version
    return training.train(name, rows=lines, root=root).version


def _unscored(session: Session, version: str) -> int:
    """Subscriptions without a churn score from model `version`."""
    scored = select(PredictionScore.account_id).where(
        PredictionScore.kind == "churn", PredictionScore.model_version == version
    )
    query = select(func.count()).where(Subscription.account_id.not_in(scored))
    return int(session.scalar(query) or 0)


def _segmented(session: Session, version: str) -> bool:
    """Whether model `version` has segmented the accounts already (one batch does them all;
    accounts whose orders were all cancelled never get a segment, so they are not counted)."""
    query = select(PredictionScore.id).where(
        PredictionScore.kind == "segment", PredictionScore.model_version == version
    )
    return session.scalars(query.limit(1)).first() is not None


def prepare_demo_predictions(
    session: Session, data: Path = training.TELCO_PATH, root: Path | None = None
) -> DemoPredictions:
    """Make sure the demo accounts have churn scores from a real model (the caller commits).

    Args:
        session: an open session on the demo database.
        data: the Telco training file.
        root: registry root (default `var/models`).

    Returns:
        The model versions used, whether churn was trained now, and how many scores were
        written.
    """
    version, trained = ensure_churn_model(data, root)
    scored = 0
    if _unscored(session, version) > 0:
        scored = service.batch_score_churn(session, root=root).scored
    segments = ensure_segments_model(session, root)
    segmented = 0
    if segments is not None and not _segmented(session, segments):
        segmented = service.batch_score_segments(session, root=root).scored
    recommendations = ensure_recommendations_model(session, root)
    return DemoPredictions(version, trained, scored, segments, segmented, recommendations)
