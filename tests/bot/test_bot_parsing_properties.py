"""Property tests (hypothesis) for the entity and id parsing the actions trust.

Whatever a person types, the parsers return a canonical value or None: never raise, never
return something the store's lookups would reject, and never move a due date into the past.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.actions.parsing import (
    PERIODS,
    parse_amount,
    parse_due,
    parse_email,
    parse_order_id,
    parse_period,
    parse_ticket_id,
)

ANY_TEXT = st.text(max_size=300)
CANONICAL_ORDER = re.compile(r"^ORD-\d{1,12}$")
CANONICAL_TICKET = re.compile(r"^TCK-\d{1,12}$")
SEPARATORS = st.sampled_from(["-", "_", " ", "#", "", " - "])
WRAPPERS = st.tuples(st.text(alphabet="abc ,.:;!?()'\"", max_size=20),
                     st.text(alphabet="abc ,.:;!?()'\"", max_size=20))  # fmt: skip
NOW = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1),
                   timezones=st.just(UTC))  # fmt: skip


@given(ANY_TEXT)
def test_parsers_never_raise_and_return_canonical_values(text: str) -> None:
    order, ticket = parse_order_id(text), parse_ticket_id(text)
    assert order is None or CANONICAL_ORDER.match(order)
    assert ticket is None or CANONICAL_TICKET.match(ticket)
    email = parse_email(text)
    assert email is None or ("@" in email and email == email.lower() and len(email) <= 254)
    assert parse_period(text) in (None, *PERIODS)
    amount = parse_amount(text)
    assert amount is None or amount >= 0


@given(digits=st.integers(min_value=0, max_value=10**12 - 1), sep=SEPARATORS,
       prefix=st.sampled_from(["ORD", "ord", "Ord"]), wrap=WRAPPERS)  # fmt: skip
def test_an_order_number_is_found_however_it_is_written(
    digits: int, sep: str, prefix: str, wrap: tuple[str, str]
) -> None:
    text = f"{wrap[0]} {prefix}{sep}{digits} {wrap[1]}"
    found = parse_order_id(text)
    assert found is not None and int(found.removeprefix("ORD-")) == digits


@given(digits=st.integers(min_value=0, max_value=10**12 - 1), sep=SEPARATORS, wrap=WRAPPERS)
def test_a_ticket_number_is_not_an_order_and_vice_versa(
    digits: int, sep: str, wrap: tuple[str, str]
) -> None:
    text = f"{wrap[0]} TCK{sep}{digits} {wrap[1]}"
    found = parse_ticket_id(text)
    assert found is not None and int(found.removeprefix("TCK-")) == digits
    assert parse_order_id(text) is None


@given(local=st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,20}", fullmatch=True),
       domain=st.from_regex(r"[a-z0-9]{1,15}\.(com|org|example|co\.uk)", fullmatch=True),
       wrap=WRAPPERS)  # fmt: skip
def test_an_email_is_found_and_lower_cased(local: str, domain: str, wrap: tuple[str, str]) -> None:
    address = f"{local}@{domain}"
    assert parse_email(f"{wrap[0]} {address.upper()} {wrap[1]}") == address


@given(ANY_TEXT, NOW)
@settings(max_examples=300)
def test_a_due_date_is_never_in_the_past(value: str, now: datetime) -> None:
    due = parse_due(value, now)
    assert due.tzinfo is not None
    assert due > now and due - now < timedelta(days=1000)


@given(st.integers(min_value=1, max_value=999), NOW)
def test_in_n_days_is_n_days_ahead(days: int, now: datetime) -> None:
    due = parse_due(f"in {days} days", now)
    assert due.date() == (now + timedelta(days=days)).date()
