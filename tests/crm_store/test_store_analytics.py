"""Dashboard analytics on hand-built data, with every expected figure worked out by hand.

The company: team North (manager Mia; reps Rae and Rob) and team South (rep Sam).
Rae owns A1 and A2, Rob owns A3, Sam owns A4 and A5. Times are offsets from NOW.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session
from store_helpers import scope_of

from crm_store import Scope
from crm_store.errors import InvalidInputError
from crm_store.models import (
    Account,
    Contact,
    Conversation,
    ConversationStatus,
    Deal,
    DealStage,
    Handoff,
    Message,
    PredictionScore,
    Team,
    User,
)
from crm_store.queries.analytics import (
    ResponseTimes,
    churn_distribution,
    conversation_figures,
    dashboard,
    pipeline_by_stage,
    segment_counts,
)

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=30)


@dataclass
class Company:
    rae: Scope
    rob: Scope
    sam: Scope
    mia: Scope
    admin: Scope
    accounts: dict[str, Account]


def _user(session: Session, name: str, role: str, team: Team | None) -> User:
    user = User(email=f"{name.lower()}@t.example", name=name, role=role,
                team_id=team.id if team else None)  # fmt: skip
    session.add(user)
    session.flush()
    return user


def _at(seconds: float, start: datetime) -> datetime:
    return start + timedelta(seconds=seconds)


def _conversation(
    session: Session,
    key: str,
    started: datetime,
    messages: list[tuple[float, str, str | None]],
    **fields: object,
) -> Conversation:
    """A conversation with (offset seconds, sender, mark) messages; the mark is an outcome,
    or "queued" for a bot line sent outside a turn."""
    conversation = Conversation(channel=fields.pop("channel", "web"), external_id=key,
                                started_at=started, **fields)  # fmt: skip
    session.add(conversation)
    session.flush()
    for offset, sender, mark in messages:
        meta = {"delivered": True} if mark == "queued" else {"outcome": mark} if mark else {}
        session.add(Message(
            conversation_id=conversation.id, sender=sender, text=f"{sender} says",
            meta=meta, created_at=_at(offset, started),
        ))  # fmt: skip
        session.flush()  # ids in time order, as the channel appends them
    return conversation


def _score(session: Session, account: Account, kind: str, score: float | None, label: str,
           age_days: int) -> None:  # fmt: skip
    session.add(
        PredictionScore(
            account_id=account.id,
            kind=kind,
            score=score,
            label=label,
            model_version="v1",
            scored_at=NOW - timedelta(days=age_days),
        )
    )


@pytest.fixture
def company(session: Session) -> Company:
    north, south = Team(name="North"), Team(name="South")
    session.add_all([north, south])
    session.flush()
    mia = _user(session, "Mia", "manager", north)
    rae, rob = _user(session, "Rae", "rep", north), _user(session, "Rob", "rep", north)
    sam = _user(session, "Sam", "rep", south)
    admin = _user(session, "Ada", "admin", None)
    owners = {"A1": rae, "A2": rae, "A3": rob, "A4": sam, "A5": sam}
    accounts = {name: Account(name=name, owner_id=owner.id) for name, owner in owners.items()}
    session.add_all(accounts.values())
    session.flush()
    contacts = {}
    for name, account in accounts.items():
        contacts[name] = Contact(account_id=account.id, first_name="C", last_name=name)
        session.add(contacts[name])
    session.flush()
    for account, stage, amount in (
        ("A1", DealStage.prospecting, "100"), ("A1", DealStage.prospecting, "200"),
        ("A1", DealStage.proposal, "300"), ("A2", DealStage.closed_won, "1000"),
        ("A3", DealStage.negotiation, "500"), ("A4", DealStage.prospecting, "50"),
    ):  # fmt: skip
        owner = owners[account].id
        session.add(Deal(account_id=accounts[account].id, owner_id=owner, name=account,
                         amount=Decimal(amount), stage=stage))  # fmt: skip
    # A1 was high risk a week ago; its latest score is low. 0.3 sits exactly on an edge.
    for account, score, label, age in (
        ("A1", 0.9, "high", 7), ("A1", 0.15, "low", 1), ("A2", 0.55, "high", 1),
        ("A3", 0.35, "medium", 1), ("A4", 1.0, "high", 1), ("A5", 0.3, "medium", 1),
    ):  # fmt: skip
        _score(session, accounts[account], "churn", score, label, age)
    for account, name, age in (("A1", "Lost", 9), ("A1", "Champions", 1),
                               ("A2", "Champions", 1), ("A3", "Lost", 1)):  # fmt: skip
        _score(session, accounts[account], "segment", None, name, age)

    day = timedelta(days=1)
    # C1 (Rae's customer): three bot turns of 1 s, 3 s (fell back) and 2 s (abstained); CSAT 4.
    _conversation(session, "c1", NOW - 2 * day, [
        (0, "user", None), (1, "bot", None), (10, "user", None), (13, "bot", "fallback"),
        (20, "user", None), (22, "bot", "abstain"),
    ], contact_id=contacts["A1"].id, csat=4)  # fmt: skip
    # C2 (Rae's customer): turns of 2 s and 1 s, then a handoff answered by an agent after 60 s.
    # The customer's messages while waiting (30 s) and later (70 s) go to the agent, so they
    # are no bot turns, even though a queued "agent joined" bot line follows the first. CSAT 2.
    # Later the customer asks for a person again (a second handoff row), answered after 30 s.
    c2_start = NOW - 3 * day
    c2 = _conversation(session, "c2", c2_start, [
        (0, "user", None), (2, "bot", None), (5, "user", None), (5.5, "system", None),
        (6, "bot", None), (30, "user", None), (60, "bot", "queued"), (66, "agent", None),
        (70, "user", None), (80, "agent", None),
    ], contact_id=contacts["A2"].id, csat=2, status=ConversationStatus.human)  # fmt: skip
    for requested, replied in ((6, 66), (100, 130)):
        session.add(Handoff(
            conversation_id=c2.id, reason="customer_request", status="resolved",
            requested_at=_at(requested, c2_start), first_agent_reply_at=_at(replied, c2_start),
        ))  # fmt: skip
    # C3: Rae herself asking the assistant; 0.5 s.
    _conversation(session, "c3", NOW - 5 * day, [(0, "user", None), (0.5, "bot", None)],
                  channel="rep", user_id=rae.id)  # fmt: skip
    # C4 (Rob's customer): 4 s, fell back; still waiting for a person.
    c4 = _conversation(session, "c4", NOW - 1 * day, [(0, "user", None), (4, "bot", "fallback")],
                       contact_id=contacts["A3"].id,
                       status=ConversationStatus.handoff_pending)  # fmt: skip
    session.add(Handoff(conversation_id=c4.id, reason="bot_abstained", status="pending",
                        requested_at=_at(5, NOW - 1 * day)))  # fmt: skip
    # C5 (Sam's customer, the other team): 2 s. C6: an anonymous visitor: 1 s.
    _conversation(session, "c5", NOW - 1 * day, [(0, "user", None), (2, "bot", None)],
                  contact_id=contacts["A4"].id)  # fmt: skip
    _conversation(session, "c6", NOW - 3 * day, [(0, "user", None), (1, "bot", None)])
    # C7: Rae's customer, but before the period.
    _conversation(session, "c7", NOW - 40 * day, [(0, "user", None), (9, "bot", "fallback")],
                  contact_id=contacts["A1"].id, csat=1)  # fmt: skip
    session.flush()
    return Company(*(Scope.for_user(u) for u in (rae, rob, sam, mia, admin)), accounts)


def _pipeline(session: Session, scope: Scope) -> dict[str, tuple[int, Decimal]]:
    return {t.stage: (t.count, t.amount) for t in pipeline_by_stage(session=session, scope=scope)}


def test_pipeline_by_stage_per_scope(session: Session, company: Company) -> None:
    rae = _pipeline(session, company.rae)
    assert list(rae) == [s.value for s in DealStage]  # every stage, in order
    assert rae["prospecting"] == (2, Decimal("300.00"))
    assert rae["proposal"] == (1, Decimal("300.00"))
    assert rae["closed_won"] == (1, Decimal("1000.00"))
    assert rae["negotiation"] == (0, Decimal("0.00"))
    manager = _pipeline(session, company.mia)
    assert manager["negotiation"] == (1, Decimal("500.00"))  # Rob's deal, same team
    assert manager["prospecting"] == (2, Decimal("300.00"))  # not Sam's (other team)
    assert _pipeline(session, company.admin)["prospecting"] == (3, Decimal("350.00"))


def test_churn_histogram_uses_latest_score_and_edges(session: Session, company: Company) -> None:
    rae = churn_distribution(session=session, scope=company.rae)
    assert [b.count for b in rae.buckets] == [0, 1, 0, 0, 0, 1, 0, 0, 0, 0]  # 0.15, 0.55
    assert (rae.scored, rae.unscored, rae.average) == (2, 0, 0.35)
    assert rae.by_label == {"low": 1, "high": 1}  # A1's old "high" no longer counts
    every = churn_distribution(session=session, scope=company.admin)
    # 0.3 opens bucket [0.3, 0.4); 1.0 falls in the last bucket.
    assert [b.count for b in every.buckets] == [0, 1, 0, 2, 0, 1, 0, 0, 0, 1]
    assert every.buckets[3].lower == pytest.approx(0.3)
    assert every.by_label == {"low": 1, "medium": 2, "high": 2}
    five = churn_distribution(session=session, scope=company.admin, buckets=5)
    assert [b.count for b in five.buckets] == [1, 2, 1, 0, 1]
    with pytest.raises(InvalidInputError):
        churn_distribution(session=session, scope=company.admin, buckets=0)


def test_segments_count_latest_label(session: Session, company: Company) -> None:
    rae = segment_counts(session=session, scope=company.rae)
    assert [(s.name, s.count) for s in rae] == [("Champions", 2)]
    admin = segment_counts(session=session, scope=company.admin)
    assert [(s.name, s.count) for s in admin] == [("Champions", 2), ("Lost", 1)]
    assert segment_counts(session=session, scope=company.sam) == []


def test_conversation_figures_for_a_rep(session: Session, company: Company) -> None:
    figures = conversation_figures(session=session, scope=company.rae, since=SINCE, until=NOW)
    assert (figures.conversations, figures.handed_off, figures.contained) == (3, 1, 2)
    assert (figures.containment_rate, figures.handoff_rate) == (0.6667, 0.3333)
    assert (figures.bot_turns, figures.fallback_turns, figures.fallback_rate) == (6, 2, 0.3333)
    assert (figures.csat_average, figures.csat_count) == (3.0, 2)  # C7's 1 is out of period
    # Turn times 1, 3, 2, 2, 1, 0.5 s: median 1.5, p90 (nearest rank 6 of 6) 3.
    assert figures.bot_response == ResponseTimes(6, 1.5, 3.0)
    # Two answered handoffs in one conversation: it counts once above, twice here (30, 60 s).
    assert figures.human_response == ResponseTimes(2, 45.0, 60.0)


def test_conversation_figures_for_manager_other_rep_and_admin(
    session: Session, company: Company
) -> None:
    team = conversation_figures(session=session, scope=company.mia, since=SINCE, until=NOW)
    assert (team.conversations, team.handed_off, team.handoff_rate) == (4, 2, 0.5)
    assert (team.bot_turns, team.fallback_turns, team.fallback_rate) == (7, 3, 0.4286)
    assert team.bot_response == ResponseTimes(7, 2.0, 4.0)
    # C4's handoff has no agent reply yet, so only C2's two are timed.
    assert team.human_response == ResponseTimes(2, 45.0, 60.0)
    rob = conversation_figures(session=session, scope=company.rob, since=SINCE, until=NOW)
    assert (rob.conversations, rob.handed_off, rob.csat_count, rob.csat_average) == (1, 1, 0, None)
    admin = conversation_figures(session=session, scope=company.admin, since=SINCE, until=NOW)
    assert (admin.conversations, admin.handed_off, admin.bot_turns) == (6, 2, 9)
    assert admin.bot_response == ResponseTimes(9, 2.0, 4.0)
    longer = conversation_figures(session=session, scope=company.rae, since=NOW - timedelta(
        days=60), until=NOW)  # fmt: skip
    assert (longer.conversations, longer.csat_count, longer.csat_average) == (4, 3, 2.33)


def test_empty_scope_has_no_rates(session: Session, company: Company) -> None:
    nobody = Scope(role="rep", user_id=10_000)
    figures = conversation_figures(session=session, scope=nobody, since=SINCE, until=NOW)
    assert figures.conversations == 0
    assert figures.containment_rate is figures.fallback_rate is figures.csat_average is None
    assert figures.bot_response == ResponseTimes(0, None, None)
    churn = churn_distribution(session=session, scope=nobody)
    assert churn.scored == 0 and churn.average is None and sum(b.count for b in churn.buckets) == 0


def test_dashboard_breaks_a_team_down_per_rep(session: Session, company: Company) -> None:
    board = dashboard(session=session, scope=company.mia, days=30, now=NOW)
    assert (board.coverage, board.accounts, board.since) == ("team", 3, SINCE)
    assert [r.name for r in board.by_rep] == ["Rae", "Rob"]  # not Sam: other team
    rae, rob = board.by_rep
    assert (rae.accounts, rae.open_deals, rae.open_amount, rae.high_risk_accounts) == (
        2, 3, Decimal("600.00"), 1)  # fmt: skip
    assert (rob.open_deals, rob.conversations.conversations) == (1, 1)
    assert rae.conversations.conversations == 3
    assert dashboard(session=session, scope=company.rae, now=NOW).by_rep == []
    admin = dashboard(session=session, scope=company.admin, now=NOW)
    assert admin.coverage == "all" and [r.name for r in admin.by_rep] == ["Rae", "Rob", "Sam"]
    for days in (0, 367):
        with pytest.raises(InvalidInputError):
            dashboard(session=session, scope=company.rae, days=days, now=NOW)


def test_the_demo_company_fills_every_conversation_figure(seeded_session: Session) -> None:
    """`crm demo seed` alone gives the console non-empty charts (churn and segments come
    with `crm demo run`'s scoring, tested in tests/predict)."""
    board = dashboard(session=seeded_session, scope=scope_of(seeded_session, "manager"))
    assert sum(stage.count > 0 for stage in board.pipeline) >= 4
    chats = board.conversations
    assert chats.conversations >= 5 and chats.handed_off >= 1 and chats.contained >= 1
    assert chats.fallback_turns >= 1 and chats.csat_count >= 3
    assert chats.bot_response.count >= 5 and chats.human_response.count >= 1
    assert [r.name for r in board.by_rep if r.conversations.conversations][:1] == ["Alice Moreno"]
    other = dashboard(session=seeded_session, scope=scope_of(seeded_session, "other_rep"))
    assert other.conversations.conversations >= 1  # Ben's own chat with the assistant
