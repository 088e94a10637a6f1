"""What people type → values the store accepts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.actions.parsing import (
    note_body,
    parse_amount,
    parse_due,
    parse_email,
    parse_order_id,
    parse_period,
    parse_ticket_id,
    task_title,
)

# A Wednesday.
NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ORD-10045", "ORD-10045"),
        ("where is my order ord-10045?", "ORD-10045"),
        ("it's ORD 536365", "ORD-536365"),
        ("10045", "ORD-10045"),
        ("#10045", "ORD-10045"),
        ("my order", None),
        ("TCK-1001", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_order_id(text: str | None, expected: str | None) -> None:
    assert parse_order_id(text) == expected


def test_parse_ticket_id() -> None:
    assert parse_ticket_id("ticket tck-1001 please") == "TCK-1001"
    assert parse_ticket_id("100004") == "TCK-100004"
    assert parse_ticket_id("ORD-1001") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jane@Acme.example", "jane@acme.example"),
        ("my email is sam.o'neil+orders@gmail.com thanks", "sam.o'neil+orders@gmail.com"),
        ("jane at acme dot com", None),
        ("jane@acme", None),
        (42, None),
    ],
)
def test_parse_email(text: object, expected: str | None) -> None:
    assert parse_email(text) == expected


def test_parse_period_accepts_only_store_periods() -> None:
    assert parse_period("this_quarter") == "this_quarter"
    assert parse_period("Next Month") == "next_month"
    assert parse_period("Q3") is None
    assert parse_period(None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("50k", Decimal(50_000)), ("$100,000", Decimal(100_000)), ("1.5m", Decimal(1_500_000)),
     ("25000", Decimal(25_000)), ("lots", None)],
)  # fmt: skip
def test_parse_amount(text: str, expected: Decimal | None) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("tomorrow", datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
        (None, datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
        ("today", datetime(2026, 11, 25, 17, 0, tzinfo=UTC)),
        ("next_week", datetime(2026, 11, 30, 9, 0, tzinfo=UTC)),
        ("friday", datetime(2026, 11, 27, 9, 0, tzinfo=UTC)),
        ("wednesday", datetime(2026, 12, 2, 9, 0, tzinfo=UTC)),
        ("end_of_week", datetime(2026, 11, 27, 17, 0, tzinfo=UTC)),
        ("in_two_days", datetime(2026, 11, 27, 9, 0, tzinfo=UTC)),
        ("in 3 days", datetime(2026, 11, 28, 9, 0, tzinfo=UTC)),
    ],
)
def test_parse_due(value: str | None, expected: datetime) -> None:
    assert parse_due(value, NOW) == expected


def test_parse_due_today_late_in_the_day_is_still_in_the_future() -> None:
    late = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    assert parse_due("today", late) > late


@pytest.mark.parametrize(
    ("text", "account", "expected"),
    [
        ("log a call with Acme: discussed renewal pricing", "Acme", "discussed renewal pricing"),
        ("log call Initech - they want a new quote", "Initech", "they want a new quote"),
        ("spoke with Soylent Corp today about their invoice", "Soylent Corp",
         "today about their invoice"),
        ("log a call with Globex", "Globex", ""),
        ("add a note", None, ""),
    ],
)  # fmt: skip
def test_note_body(text: str, account: str | None, expected: str) -> None:
    assert note_body(text, account) == expected


@pytest.mark.parametrize(
    ("text", "due", "account", "expected"),
    [
        ("remind me to call Globex tomorrow", "tomorrow", "Globex Corporation", "call Globex"),
        ("create a task to follow up with Initech on friday", "on friday", "Initech",
         "follow up with Initech"),
        ("add a task: send proposal to Acme Corp", None, "Acme Corp", "send proposal to Acme Corp"),
        ("create a task", None, None, "Follow up"),
        ("remind me tomorrow", "tomorrow", "Acme Corp", "Follow up with Acme Corp"),
    ],
)  # fmt: skip
def test_task_title(text: str, due: str | None, account: str | None, expected: str) -> None:
    assert task_title(text, due, account) == expected
