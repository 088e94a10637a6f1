"""Account search, fuzzy name resolution and the summary."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from store_helpers import account_id, scope_of

from crm_store.demo import DEMO_CREDENTIALS as DEMO
from crm_store.models import OPEN_DEAL_STAGES, Deal, PredictionScore, utcnow
from crm_store.queries.accounts import (
    account_summary,
    clear_winner,
    get_account,
    resolve_account,
    search_accounts,
)


def test_search_is_case_insensitive_and_scoped(seeded_session: Session) -> None:
    s = seeded_session
    rep = scope_of(s, "rep")
    names = [a.name for a in search_accounts(session=s, scope=rep, q="ACME")]
    assert names == ["Acme Corp", "Acme Logistics"]
    assert search_accounts(session=s, scope=rep, q="globex") == []
    assert len(search_accounts(session=s, scope=scope_of(s, "admin"), q="", limit=5)) == 5
    assert search_accounts(session=s, scope=rep, q="100%_") == []  # wildcards are literal


def test_resolve_ambiguous_name_offers_both(seeded_session: Session) -> None:
    s = seeded_session
    matches = resolve_account(session=s, scope=scope_of(s, "rep"), name="Acme")
    assert [m.name for m in matches[:2]] == ["Acme Corp", "Acme Logistics"]
    assert all(0 <= m.score <= 100 for m in matches)
    assert matches == sorted(matches, key=lambda m: -m.score)
    assert clear_winner(matches) is None  # "which one?"


def test_resolve_full_name_and_typos(seeded_session: Session) -> None:
    s = seeded_session
    rep = scope_of(s, "rep")
    for spoken in ("acme corp", "Acme Corp.", "ACME CORP", "acme crop", "Acme Corporation"):
        matches = resolve_account(session=s, scope=rep, name=spoken)
        winner = clear_winner(matches)
        assert winner is not None and winner.name == "Acme Corp", (spoken, matches)
        assert winner.account_id == account_id(s, "Acme Corp")
    north = clear_winner(resolve_account(session=s, scope=rep, name="nortwind"))
    assert north is not None and north.name == "Northwind Traders"


def test_resolve_respects_scope_and_limits(seeded_session: Session) -> None:
    s = seeded_session
    assert resolve_account(session=s, scope=scope_of(s, "rep"), name="Globex") == []
    admin = scope_of(s, "admin")
    globex = resolve_account(session=s, scope=admin, name="globex", limit=1)
    assert len(globex) == 1 and globex[0].name.startswith("Globex")
    assert resolve_account(session=s, scope=admin, name="   ") == []
    assert resolve_account(session=s, scope=admin, name="zzqxv unrelated") == []
    assert resolve_account(session=s, scope=scope_of(s, "anonymous"), name="Acme") == []


def test_account_summary_numbers(seeded_session: Session) -> None:
    s = seeded_session
    rep = scope_of(s, "rep")
    acme = account_id(s, "Acme Corp")
    summary = account_summary(session=s, scope=rep, account_id=acme)
    assert summary is not None
    assert (summary.name, summary.owner_email) == ("Acme Corp", DEMO.rep_email)
    open_deals = list(s.scalars(select(Deal).where(Deal.account_id == acme,
                                                   Deal.stage.in_(OPEN_DEAL_STAGES))))  # fmt: skip
    assert summary.open_deal_count == len(open_deals) > 0
    assert summary.open_deal_amount == sum((d.amount for d in open_deals), Decimal("0"))
    assert summary.last_activity_at is not None and summary.churn_score is None
    s.add_all([
        PredictionScore(account_id=acme, kind="churn", score=0.2, label="low", model_version="a",
                        scored_at=utcnow().replace(year=2020)),
        PredictionScore(account_id=acme, kind="churn", score=0.7, label="high", model_version="b"),
    ])  # fmt: skip
    s.flush()
    latest = account_summary(session=s, scope=rep, account_id=acme)
    assert latest is not None and (latest.churn_score, latest.churn_label) == (0.7, "high")


def test_account_summary_hides_what_a_role_may_not_see(seeded_session: Session) -> None:
    s = seeded_session
    acme = account_id(s, "Acme Corp")
    assert account_summary(session=s, scope=scope_of(s, "other_rep"), account_id=acme) is None
    agent = account_summary(session=s, scope=scope_of(s, "agent"), account_id=acme)
    assert agent is not None and agent.open_deal_count == 0  # no pipeline for support
    own = account_id(s, DEMO.customer_account_name)
    customer = account_summary(session=s, scope=scope_of(s, "customer"), account_id=own)
    assert customer is not None
    assert customer.last_activity_at is None and customer.churn_score is None
    assert get_account(session=s, scope=scope_of(s, "customer"), account_id=acme) is None
