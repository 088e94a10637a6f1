"""Scoped account queries: search, fuzzy name resolution and the account summary."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from rapidfuzz import fuzz, process, utils
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crm_store.models import (
    OPEN_DEAL_STAGES,
    OPEN_TICKET_STATUSES,
    Account,
    Activity,
    Deal,
    PredictionScore,
    Ticket,
)
from crm_store.models.enums import Role
from crm_store.queries.visibility import account_filter, deal_filter
from crm_store.scope import Scope

# Words that say "company" rather than which company: "Acme Corp" is "acme".
_LEGAL_SUFFIXES = {
    "co", "company", "corp", "corporation", "gmbh", "group", "inc", "incorporated", "limited",
    "llc", "ltd", "plc", "sa", "ag", "bv", "the",
}  # fmt: skip
MATCH_CUTOFF = 60.0
CLEAR_SCORE = 80.0
LONE_SCORE = 70.0
CLEAR_MARGIN = 10.0


@dataclass(frozen=True, slots=True)
class AccountMatch:
    """One candidate for a spoken account name; `score` is in [0, 100], higher is closer."""

    account_id: int
    name: str
    score: float


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """What a rep wants to know about an account at a glance."""

    account_id: int
    name: str
    industry: str | None
    country: str | None
    status: str
    owner_name: str | None
    owner_email: str | None
    open_deal_count: int
    open_deal_amount: Decimal
    open_ticket_count: int
    last_activity_at: datetime | None
    last_activity_subject: str | None
    churn_score: float | None
    churn_label: str | None


def search_accounts(
    *, session: Session, scope: Scope, q: str = "", limit: int = 20
) -> list[Account]:
    """Accounts visible to `scope` whose name contains `q` (case-insensitive), by name."""
    stmt = select(Account).where(account_filter(scope))
    if q.strip():
        stmt = stmt.where(func.lower(Account.name).contains(q.strip().lower(), autoescape=True))
    stmt = stmt.options(selectinload(Account.owner)).order_by(Account.name, Account.id)
    return list(session.scalars(stmt.limit(max(1, min(limit, 500)))))


def get_account(*, session: Session, scope: Scope, account_id: int) -> Account | None:
    """The account, or None when it does not exist or `scope` may not see it."""
    stmt = select(Account).where(Account.id == account_id, account_filter(scope))
    return session.scalars(stmt.options(selectinload(Account.owner))).first()


def _words(name: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", name.lower().replace("&", " and "))


def _core(words: list[str]) -> list[str]:
    return [w for w in words if w not in _LEGAL_SUFFIXES] or words


def _similarity(query: list[str], name: list[str]) -> float:
    """How well the query's words match the name's, word by word and as a whole.

    Each query word counts by its best-matching name word (typos cost a little); a name
    with words the query did not say loses 10 %, so "Acme" fits "Acme Logistics" less than
    an exact "Acme".
    """
    whole = fuzz.token_sort_ratio(" ".join(query), " ".join(name))
    per_word = sum(max(fuzz.ratio(q, n) for n in name) for q in query) / len(query)
    if len(name) > len(query):
        per_word *= 0.9
    return max(whole, per_word)


def _score(query: str, name: str) -> float:
    """Similarity in [0, 100]: 100 for the exact name, 95 for it without its legal suffix.

    Legal suffixes are ignored on both sides unless the person said one ("Acme Corporation"
    should not fit "Acme Logistics" as well as "Acme Corp").
    """
    q_words, n_words = _words(query), _words(name)
    if not q_words or not n_words:
        return 0.0
    if q_words == n_words:
        return 100.0
    q_core, n_core = _core(q_words), _core(n_words)
    if q_core == n_core:
        return 95.0
    score = _similarity(q_words, n_words)
    if q_core == q_words:
        score = max(score, _similarity(q_core, n_core))
    return round(min(94.0, score), 1)


def resolve_account(
    *, session: Session, scope: Scope, name: str, limit: int = 5
) -> list[AccountMatch]:
    """Fuzzy-match a spoken account name against the accounts `scope` may see.

    Args:
        name: what the person typed, e.g. "acme", "Acme Corp." or "acne corp".
        limit: most candidates to return.

    Returns:
        Candidates scoring at least 60, best first (ties by name). Several close ones mean
        "which one?"; `clear_winner` picks one when it clearly stands out.
    """
    query = name.strip()
    if not query:
        return []
    rows = session.execute(select(Account.id, Account.name).where(account_filter(scope))).all()
    names = {row.id: row.name for row in rows}
    found = process.extract(
        query, names, scorer=fuzz.WRatio, processor=utils.default_process,
        score_cutoff=MATCH_CUTOFF, limit=max(limit * 4, 20),
    )  # fmt: skip
    # WRatio is a generous first cut; _score decides the order and the final cut-off.
    matches = [AccountMatch(key, choice, _score(query, choice)) for choice, _, key in found]
    matches = [m for m in matches if m.score >= MATCH_CUTOFF]
    matches.sort(key=lambda m: (-m.score, m.name.lower(), m.account_id))
    return matches[:limit]


def clear_winner(matches: list[AccountMatch]) -> AccountMatch | None:
    """The single match to act on without asking, or None when the user must choose.

    A winner scores at least 80 and leads the next candidate by 10 or more; a lone candidate
    (nothing else scored 60) needs only 70, which forgives a typo like "initek".
    """
    if not matches:
        return None
    top = matches[0]
    if len(matches) == 1:
        return top if top.score >= LONE_SCORE else None
    if top.score < CLEAR_SCORE or top.score - matches[1].score < CLEAR_MARGIN:
        return None
    return top


def _open_deals(session: Session, scope: Scope, account_id: int) -> tuple[int, Decimal]:
    stmt = select(func.count(Deal.id), func.coalesce(func.sum(Deal.amount), 0)).where(
        Deal.account_id == account_id, Deal.stage.in_(OPEN_DEAL_STAGES), deal_filter(scope)
    )
    count, amount = session.execute(stmt).one()
    return int(count), Decimal(amount).quantize(Decimal("0.01"))


def _latest_churn(session: Session, account_id: int) -> PredictionScore | None:
    stmt = (
        select(PredictionScore)
        .where(PredictionScore.account_id == account_id, PredictionScore.kind == "churn")
        .order_by(PredictionScore.scored_at.desc(), PredictionScore.id.desc())
    )
    return session.scalars(stmt.limit(1)).first()


def account_summary(*, session: Session, scope: Scope, account_id: int) -> AccountSummary | None:
    """Owner, open pipeline, open tickets, last activity and churn risk of one account.

    Returns:
        None when the account does not exist or `scope` may not see it. Deal figures are 0
        for roles that see no pipeline (support agents, customers).
    """
    account = get_account(session=session, scope=scope, account_id=account_id)
    if account is None:
        return None
    deal_count, deal_amount = _open_deals(session, scope, account_id)
    tickets = session.scalar(
        select(func.count(Ticket.id)).where(
            Ticket.account_id == account_id, Ticket.status.in_(OPEN_TICKET_STATUSES)
        )
    )
    last = session.scalars(
        select(Activity)
        .where(Activity.account_id == account_id)
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(1)
    ).first()
    churn = _latest_churn(session, account_id)
    if scope.role is Role.customer:
        # Internal notes and risk scores are for staff eyes only.
        last, churn = None, None
    return AccountSummary(
        account_id=account.id,
        name=account.name,
        industry=account.industry,
        country=account.country,
        status=account.status.value,
        owner_name=account.owner.name if account.owner else None,
        owner_email=account.owner.email if account.owner else None,
        open_deal_count=deal_count,
        open_deal_amount=deal_amount,
        open_ticket_count=int(tickets or 0),
        last_activity_at=last.occurred_at if last else None,
        last_activity_subject=last.subject if last else None,
        churn_score=churn.score if churn else None,
        churn_label=churn.label if churn else None,
    )
