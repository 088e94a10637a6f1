"""Open pipeline by period."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session
from store_helpers import scope_of

from crm_store.queries.deals import Period, get_deal, list_open_deals, period_bounds


@pytest.mark.parametrize(
    ("period", "today", "bounds"),
    [
        (Period.this_month, date(2026, 2, 14), (date(2026, 2, 1), date(2026, 2, 28))),
        (Period.next_month, date(2026, 12, 31), (date(2027, 1, 1), date(2027, 1, 31))),
        (Period.this_quarter, date(2026, 5, 2), (date(2026, 4, 1), date(2026, 6, 30))),
        (Period.next_quarter, date(2026, 11, 23), (date(2027, 1, 1), date(2027, 3, 31))),
        (Period.this_year, date(2024, 7, 1), (date(2024, 1, 1), date(2024, 12, 31))),
    ],
)
def test_period_bounds(period: Period, today: date, bounds: tuple[date, date]) -> None:
    assert period_bounds(period, today) == bounds
    assert period_bounds(period.value, today) == bounds  # plain strings work too


def test_unknown_period_is_refused() -> None:
    with pytest.raises(ValueError):
        period_bounds("next_decade")


def test_open_deals_this_month_are_open_in_range_and_sorted(seeded_session: Session) -> None:
    s = seeded_session
    rep = scope_of(s, "rep")
    start, end = period_bounds(Period.this_month)
    deals = list_open_deals(session=s, scope=rep, period=Period.this_month)
    assert deals, "the demo data has deals closing this month"
    assert all(d.stage.is_open and start <= d.close_date <= end for d in deals)
    assert all(d.account.owner_id == rep.user_id for d in deals)
    assert [d.close_date for d in deals] == sorted(d.close_date for d in deals)
    everything = list_open_deals(session=s, scope=rep)
    assert set(deals) <= set(everything) and len(everything) > len(deals)
    quarter = list_open_deals(session=s, scope=rep, period=Period.this_quarter)
    assert set(deals) <= set(quarter)


def test_open_deals_for_one_account_and_by_role(seeded_session: Session) -> None:
    s = seeded_session
    rep, manager, other = (scope_of(s, w) for w in ("rep", "manager", "other_rep"))
    mine = list_open_deals(session=s, scope=rep)
    account = mine[0].account_id
    only = list_open_deals(session=s, scope=rep, account_id=account)
    assert only and {d.account_id for d in only} == {account}
    assert list_open_deals(session=s, scope=other, account_id=account) == []
    assert set(mine) < set(list_open_deals(session=s, scope=manager))
    assert get_deal(session=s, scope=rep, deal_id=mine[0].id) is not None
    assert get_deal(session=s, scope=other, deal_id=mine[0].id) is None
