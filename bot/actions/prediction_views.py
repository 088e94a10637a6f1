"""What the prediction replies show besides the score: reasons, segment, products, tasks.

Values only, as short strings; the sentences around them live in `bot/domain.yml`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import PredictionScore, Task, TaskStatus
from predict import segments
from predict.reasons import Reason
from predict.recommend import Recommendation
from predict.service import ChurnResult

SHOWN_REASONS = 3
SHOWN_TASKS = 3


def percent(probability: float) -> str:
    """ "57%" for a probability in [0, 1]."""
    return f"{probability:.0%}"


def when(moment: datetime) -> str:
    """ "23 Nov 2026 05:50 UTC": the day a rep recognises, plus the time for fresh scores."""
    return f"{moment:%d %b %Y %H:%M} UTC"


def reasons_text(reasons: list[Reason]) -> str:
    """ "month-to-month contract (+0.62), tenure 9 months (+0.41)": effects in log-odds."""
    return ", ".join(f"{r.text} ({r.effect:+.2f})" for r in reasons)


def churn_values(account: str, result: ChurnResult) -> dict[str, str]:
    """Reply values for a live churn score (the same keys as a stored one)."""
    return {
        "account": account,
        "score": percent(result.probability),
        "label": result.risk,
        "model_version": result.model_version,
        "scored_on": when(result.scored_at),
    }


def churn_reason_values(result: ChurnResult) -> dict[str, str]:
    """The top reasons raising and lowering the risk ("none" when there are none)."""
    return {
        "raising": reasons_text(result.raising(SHOWN_REASONS)) or "none",
        "lowering": reasons_text(result.lowering(SHOWN_REASONS)) or "none",
    }


def latest_segment(session: Session, account_id: int) -> PredictionScore | None:
    """The account's newest segment score (written by `crm predict score segments`)."""
    query = (
        select(PredictionScore)
        .where(PredictionScore.account_id == account_id, PredictionScore.kind == "segment")
        .order_by(PredictionScore.scored_at.desc(), PredictionScore.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def segment_values(session: Session, account: str, account_id: int) -> dict[str, str] | None:
    """The segment name, its playbook and when it was assigned; None when never segmented."""
    row = latest_segment(session, account_id)
    if row is None or row.label not in segments.PROTOTYPES:
        return None
    return {
        "account": account,
        "segment": row.label,
        "playbook": segments.playbook(row.label),
        "model_version": row.model_version,
        "scored_on": when(row.scored_at),
    }


def products_text(recommendations: list[Recommendation]) -> str:
    """ "Analytics add-on (25% of baskets with X also had it)" per product, joined."""
    return "; ".join(f"{r.name or r.product} ({r.text})" for r in recommendations)


def open_tasks_text(session: Session, account_id: int) -> str | None:
    """The account's open tasks, soonest due first; None when there are none.

    The caller has already checked that the rep may see the account.
    """
    query = (
        select(Task)
        .where(Task.account_id == account_id, Task.status == TaskStatus.open)
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
    )
    tasks = list(session.scalars(query))
    if not tasks:
        return None
    shown = [
        f"{t.title} (due {t.due_at:%d %b})" if t.due_at else t.title for t in tasks[:SHOWN_TASKS]
    ]
    more = len(tasks) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
