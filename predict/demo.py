"""Real churn figures for `crm demo run`: train once from the Telco file, score the demo.

The demo accounts carry Telco-shaped subscriptions (see `crm_store.demo`), so the churn model
trained on the IBM Telco sample can score them. Training is skipped when the registry's latest
churn model was trained on the same file (same SHA-256), and scoring is skipped when every
subscription already has a score from that model version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.models import PredictionScore, Subscription
from predict import registry, service, training
from predict.errors import ModelNotFoundError


@dataclass(frozen=True)
class DemoPredictions:
    """What the demo step did, for the CLI to print.

    Attributes:
        model_version: the churn model the demo accounts are scored with.
        trained: True when a model was trained in this run (False: reused from the registry).
        scored: churn scores written in this run (0: they were already there).
    """

    model_version: str
    trained: bool
    scored: int


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


def _unscored(session: Session, version: str) -> int:
    scored = select(PredictionScore.account_id).where(
        PredictionScore.kind == "churn", PredictionScore.model_version == version
    )
    query = (
        select(func.count()).select_from(Subscription).where(Subscription.account_id.not_in(scored))
    )
    return int(session.scalar(query) or 0)


def prepare_demo_predictions(
    session: Session, data: Path = training.TELCO_PATH, root: Path | None = None
) -> DemoPredictions:
    """Make sure the demo accounts have churn scores from a real model (the caller commits).

    Args:
        session: an open session on the demo database.
        data: the Telco training file.
        root: registry root (default `var/models`).

    Returns:
        The model version used, whether it was trained now, and how many scores were written.
    """
    version, trained = ensure_churn_model(data, root)
    if _unscored(session, version) == 0:
        return DemoPredictions(version, trained, 0)
    report = service.batch_score_churn(session, root=root)
    return DemoPredictions(version, trained, report.scored)
