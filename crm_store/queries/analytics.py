"""Dashboard figures over what a scope may see: pipeline, churn risk, segments, conversations.

Service code, no web framework: the API's dashboard calls `dashboard()`, and each part is a
function of its own so reports and tests can ask for one figure. Every query applies the same
access rules as the rest of the store (`queries.visibility`), so a rep's figures cover their
own accounts and conversations, a manager's the team's, an admin's everything.

Definitions (docs/console.md repeats them for readers of the dashboard):
- a *bot turn* is a user message the bot answered (a bot message follows it before any agent
  message; lines queued outside a turn, such as "an agent joined", do not count); its
  *response time* runs from the user message to the first bot reply;
- a turn *fell back* when one of its bot replies is marked `meta.outcome` = `fallback`
  (the bot did not understand) or `abstain` (the knowledge base said "I don't know");
  the channel records that mark from the bot's own reply (docs/spine.md);
- a conversation is *handed off* when it has a row in `handoffs` (a person was asked for,
  in or outside business hours); *contained* otherwise;
- the human response time runs from a handoff's `requested_at` to its
  `first_agent_reply_at` (docs/handoff.md), one sample per answered handoff.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from crm_store.errors import InvalidInputError
from crm_store.models import (
    Account,
    Conversation,
    Deal,
    DealStage,
    Handoff,
    Message,
    MessageSender,
    PredictionScore,
    User,
)
from crm_store.models.enums import Role
from crm_store.queries.visibility import (
    account_filter,
    conversation_filter,
    deal_filter,
    visible_account_ids,
)
from crm_store.scope import Scope

FALLBACK_OUTCOMES = frozenset({"fallback", "abstain"})
CHURN_BUCKETS = 10
MAX_DAYS = 366
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class StageTotal:
    """Deals in one stage: how many and their summed amount (all currencies added as-is)."""

    stage: str
    is_open: bool
    count: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ChurnBucket:
    """Accounts whose latest churn probability is in [lower, upper) (the last bucket holds 1)."""

    lower: float
    upper: float
    count: int


@dataclass(frozen=True, slots=True)
class ChurnDistribution:
    """Latest churn probability over the visible accounts.

    Attributes:
        buckets: histogram of probabilities, lowest first.
        scored: accounts with a churn score; `unscored` the visible ones without.
        by_label: accounts per stored risk label (high / medium / low).
        average: mean probability of the scored accounts, None when none is scored.
    """

    buckets: list[ChurnBucket]
    scored: int
    unscored: int
    by_label: dict[str, int]
    average: float | None


@dataclass(frozen=True, slots=True)
class SegmentCount:
    """Accounts whose latest segment is `name`."""

    name: str
    count: int


@dataclass(frozen=True, slots=True)
class ResponseTimes:
    """Response times in seconds; median and p90 are None when nothing was measured.

    p90 is the nearest-rank percentile: the smallest time at least 90 % of turns beat or meet.
    """

    count: int
    median_seconds: float | None
    p90_seconds: float | None

    @classmethod
    def of(cls, seconds: Iterable[float]) -> ResponseTimes:
        """Summarise a sample of durations."""
        values = sorted(seconds)
        if not values:
            return cls(0, None, None)
        p90 = values[math.ceil(0.9 * len(values)) - 1]
        return cls(len(values), round(statistics.median(values), 3), round(p90, 3))


@dataclass(frozen=True, slots=True)
class ConversationFigures:
    """Conversation analytics over a period; rates are in [0, 1], None with no denominator."""

    conversations: int
    handed_off: int
    contained: int
    containment_rate: float | None
    handoff_rate: float | None
    bot_turns: int
    fallback_turns: int
    fallback_rate: float | None
    csat_average: float | None
    csat_count: int
    bot_response: ResponseTimes
    human_response: ResponseTimes


@dataclass(frozen=True, slots=True)
class RepFigures:
    """One rep's share of a manager's (or admin's) dashboard."""

    user_id: int
    name: str
    accounts: int
    open_deals: int
    open_amount: Decimal
    high_risk_accounts: int
    conversations: ConversationFigures


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Everything the console's dashboard shows, for one scope and period."""

    coverage: str  # "own" | "team" | "all"
    days: int
    since: datetime
    until: datetime
    accounts: int
    pipeline: list[StageTotal]
    churn: ChurnDistribution
    segments: list[SegmentCount]
    conversations: ConversationFigures
    by_rep: list[RepFigures] = field(default_factory=list)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# -- accounts and pipeline -----------------------------------------------------------------
def count_accounts(*, session: Session, scope: Scope) -> int:
    """How many accounts `scope` may see."""
    return int(session.scalar(select(func.count(Account.id)).where(account_filter(scope))) or 0)


def pipeline_by_stage(*, session: Session, scope: Scope) -> list[StageTotal]:
    """Count and amount of the visible deals per stage, in stage order (every stage listed)."""
    stmt = (
        select(Deal.stage, func.count(Deal.id), func.coalesce(func.sum(Deal.amount), 0))
        .where(deal_filter(scope))
        .group_by(Deal.stage)
    )
    found = {DealStage(stage): (count, amount) for stage, count, amount in session.execute(stmt)}
    totals = []
    for stage in DealStage:
        count, amount = found.get(stage, (0, 0))
        totals.append(
            StageTotal(stage.value, stage.is_open, int(count), Decimal(amount).quantize(_CENT))
        )
    return totals


# -- model outputs ----------------------------------------------------------------------------
def _latest_scores(scope: Scope, kind: str) -> Select:
    """SELECT account_id, score, label of each visible account's newest score of `kind`."""
    rank = (
        func.row_number()
        .over(
            partition_by=PredictionScore.account_id,
            order_by=(PredictionScore.scored_at.desc(), PredictionScore.id.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(PredictionScore.account_id, PredictionScore.score, PredictionScore.label, rank)
        .where(
            PredictionScore.kind == kind,
            PredictionScore.account_id.in_(visible_account_ids(scope)),
        )
        .subquery()
    )
    return select(ranked.c.account_id, ranked.c.score, ranked.c.label).where(ranked.c.rank == 1)


def churn_distribution(
    *, session: Session, scope: Scope, buckets: int = CHURN_BUCKETS
) -> ChurnDistribution:
    """Histogram of the latest churn probability of each visible account.

    Buckets are counted in SQL (one CASE per bucket), so an admin over a million imported
    accounts moves a dozen numbers, not a million scores.

    Args:
        buckets: number of equal-width buckets over [0, 1].
    """
    if not 1 <= buckets <= 100:
        raise InvalidInputError("buckets must be between 1 and 100")
    latest = _latest_scores(scope, "churn").subquery()
    edges = [i / buckets for i in range(buckets + 1)]
    score = latest.c.score
    # [lower, upper) per bucket; the last one also holds a probability of exactly 1.
    inside = [
        (score >= lo) & ((score < hi) if i < buckets - 1 else (score <= hi))
        for i, (lo, hi) in enumerate(zip(edges, edges[1:], strict=False))
    ]
    columns = [func.coalesce(func.sum(case((test, 1), else_=0)), 0) for test in inside]
    row = session.execute(
        select(func.count(score), func.avg(score), *columns).select_from(latest)
    ).one()
    scored, average, counts = int(row[0]), row[1], row[2:]
    labels = session.execute(
        select(latest.c.label, func.count()).where(score.is_not(None)).group_by(latest.c.label)
    ).all()
    return ChurnDistribution(
        buckets=[ChurnBucket(edges[i], edges[i + 1], int(counts[i])) for i in range(buckets)],
        scored=scored,
        unscored=max(0, count_accounts(session=session, scope=scope) - scored),
        by_label={str(label or "unlabelled"): int(n) for label, n in labels},
        average=round(float(average), 4) if average is not None else None,
    )


def segment_counts(*, session: Session, scope: Scope) -> list[SegmentCount]:
    """Visible accounts per latest segment name, largest segment first (ties by name)."""
    latest = _latest_scores(scope, "segment").subquery()
    rows = session.execute(
        select(latest.c.label, func.count())
        .where(latest.c.label.is_not(None))
        .group_by(latest.c.label)
    ).all()
    counts = [SegmentCount(str(name), int(n)) for name, n in rows]
    return sorted(counts, key=lambda s: (-s.count, s.name))


# -- conversations ----------------------------------------------------------------------------
def _conversations_in(scope: Scope, since: datetime, until: datetime) -> Select:
    """SELECT ids of the visible conversations started in [since, until)."""
    return select(Conversation.id).where(
        conversation_filter(scope),
        Conversation.started_at >= since,
        Conversation.started_at < until,
    )


@dataclass
class _Turn:
    """A user message waiting for, or answered by, the bot."""

    asked_at: datetime
    answered_at: datetime | None = None
    fell_back: bool = False


def _bot_turns(session: Session, ids: Select) -> list[_Turn]:
    """Walk the messages of the conversations once, oldest first, and cut them into turns.

    Bot lines queued outside a chat turn (an agent joined, the hand-back, the CSAT question:
    `meta.delivered` is set, docs/handoff.md) answer no one, so they are skipped.
    """
    outcome = Message.meta["outcome"].as_string()
    queued = Message.meta["delivered"].as_string()
    rows = session.execute(
        select(Message.conversation_id, Message.sender, Message.created_at, outcome)
        .where(
            Message.conversation_id.in_(ids),
            or_(Message.sender != MessageSender.bot, queued.is_(None)),
        )
        .order_by(Message.conversation_id, Message.id)
    )
    turns: list[_Turn] = []
    current: _Turn | None = None
    conversation: int | None = None
    for conversation_id, sender, created_at, mark in rows:
        if conversation_id != conversation:
            conversation, current = conversation_id, None
        if sender == MessageSender.user:
            current = _Turn(created_at)
            turns.append(current)
        elif sender == MessageSender.agent:
            current = None  # the person answers from here on, not the bot
        elif sender == MessageSender.bot and current is not None:
            current.answered_at = current.answered_at or created_at
            current.fell_back = current.fell_back or mark in FALLBACK_OUTCOMES
    return [turn for turn in turns if turn.answered_at is not None]


def _handoffs(session: Session, ids: Select) -> tuple[int, list[float]]:
    """Handed-off conversations among `ids`, and each answered handoff's wait in seconds.

    A conversation may ask for a person more than once (one `handoffs` row each): it counts
    once in the handoff rate, and every answered handoff counts in the response times.
    """
    rows = session.execute(
        select(Handoff.conversation_id, Handoff.requested_at, Handoff.first_agent_reply_at).where(
            Handoff.conversation_id.in_(ids)
        )
    ).all()
    waits = [
        (replied - requested).total_seconds()
        for _, requested, replied in rows
        if replied is not None and requested is not None
    ]
    return len({conversation_id for conversation_id, _, _ in rows}), waits


def conversation_figures(
    *, session: Session, scope: Scope, since: datetime, until: datetime
) -> ConversationFigures:
    """Containment, handoff and fallback rates, CSAT and response times over a period.

    Args:
        since: start of the period (inclusive); conversations are counted by start time.
        until: end of the period (exclusive).
    """
    ids = _conversations_in(scope, since, until)
    conversations = int(session.scalar(select(func.count()).select_from(ids.subquery())) or 0)
    handed_off, waits = _handoffs(session, ids)
    csat_count, csat_average = session.execute(
        select(func.count(Conversation.csat), func.avg(Conversation.csat)).where(
            Conversation.id.in_(ids), Conversation.csat.is_not(None)
        )
    ).one()
    turns = _bot_turns(session, ids)
    fallbacks = sum(turn.fell_back for turn in turns)
    return ConversationFigures(
        conversations=conversations,
        handed_off=handed_off,
        contained=conversations - handed_off,
        containment_rate=_ratio(conversations - handed_off, conversations),
        handoff_rate=_ratio(handed_off, conversations),
        bot_turns=len(turns),
        fallback_turns=fallbacks,
        fallback_rate=_ratio(fallbacks, len(turns)),
        csat_average=round(float(csat_average), 2) if csat_average is not None else None,
        csat_count=int(csat_count or 0),
        bot_response=ResponseTimes.of(
            (t.answered_at - t.asked_at).total_seconds() for t in turns if t.answered_at
        ),
        human_response=ResponseTimes.of(waits),
    )


# -- the whole dashboard ----------------------------------------------------------------------
def _coverage(scope: Scope) -> str:
    if scope.role in (Role.admin, Role.support_agent):
        return "all"
    return "team" if scope.role is Role.manager and scope.team_id is not None else "own"


def _reps_under(session: Session, scope: Scope) -> list[User]:
    """The reps a manager (their team) or an admin (everyone) sees one by one."""
    stmt = select(User).where(User.role == Role.rep, User.is_active.is_(True))
    if scope.role is Role.manager and scope.team_id is not None:
        stmt = stmt.where(User.team_id == scope.team_id)
    elif scope.role is not Role.admin:
        return []
    return list(session.scalars(stmt.order_by(User.name, User.id)))


def _rep_figures(session: Session, rep: User, since: datetime, until: datetime) -> RepFigures:
    scope = Scope.for_user(rep)
    open_stages = [s for s in pipeline_by_stage(session=session, scope=scope) if s.is_open]
    churn = churn_distribution(session=session, scope=scope)
    return RepFigures(
        user_id=rep.id,
        name=rep.name,
        accounts=count_accounts(session=session, scope=scope),
        open_deals=sum(s.count for s in open_stages),
        open_amount=sum((s.amount for s in open_stages), Decimal("0.00")),
        high_risk_accounts=churn.by_label.get("high", 0),
        conversations=conversation_figures(session=session, scope=scope, since=since, until=until),
    )


def dashboard(
    *, session: Session, scope: Scope, days: int = 30, now: datetime | None = None
) -> Dashboard:
    """The console dashboard for `scope`: pipeline, churn risk, segments, conversations.

    Args:
        days: the period for conversation analytics, ending now (1 to 366).
        now: the end of the period (UTC now by default; tests pin it).

    Returns:
        The figures over what `scope` may see; managers and admins also get one entry per
        rep (their team's reps, or all reps).

    Raises:
        InvalidInputError: `days` is out of range.
    """
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(f"days must be between 1 and {MAX_DAYS}")
    until = now or datetime.now(UTC)
    since = until - timedelta(days=days)
    return Dashboard(
        coverage=_coverage(scope),
        days=days,
        since=since,
        until=until,
        accounts=count_accounts(session=session, scope=scope),
        pipeline=pipeline_by_stage(session=session, scope=scope),
        churn=churn_distribution(session=session, scope=scope),
        segments=segment_counts(session=session, scope=scope),
        conversations=conversation_figures(session=session, scope=scope, since=since, until=until),
        by_rep=[_rep_figures(session, rep, since, until) for rep in _reps_under(session, scope)],
    )
