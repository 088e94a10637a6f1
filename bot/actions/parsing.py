"""Turning what people type into values the store accepts: ids, emails, dates, amounts, notes.

Pure functions with no I/O, so the validators and actions stay thin and these are easy to
test on their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from crm_store.queries.orders import normalize_order_number
from crm_store.queries.tickets import normalize_ticket_number

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ORDER_RE = re.compile(r"\bORD\s*[-_ #]?\s*\d{1,12}\b", re.IGNORECASE)
_TICKET_RE = re.compile(r"\bTCK\s*[-_ #]?\s*\d{1,12}\b", re.IGNORECASE)
_BARE_NUMBER_RE = re.compile(r"^\s*#?\d{1,12}\s*$")

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PERIODS = ("this_month", "next_month", "this_quarter", "next_quarter", "this_year")
MORNING = time(9, 0, tzinfo=UTC)
END_OF_DAY = time(17, 0, tzinfo=UTC)


def _public_id(
    text: object, pattern: re.Pattern[str], normalize: Callable[[str], str | None]
) -> str | None:
    if not isinstance(text, str):
        return None
    found = pattern.search(text)
    if found:
        return normalize(found.group(0))
    return normalize(text) if _BARE_NUMBER_RE.match(text) else None


def parse_order_id(text: object) -> str | None:
    """Find an order number in `text` ("ord 10045", "it's ORD-10045", "10045").

    Returns:
        The canonical "ORD-<digits>", or None when the text holds no order number.
    """
    return _public_id(text, _ORDER_RE, normalize_order_number)


def parse_ticket_id(text: object) -> str | None:
    """Find a ticket number in `text`; canonical "TCK-<digits>" or None."""
    return _public_id(text, _TICKET_RE, normalize_ticket_number)


def parse_email(text: object) -> str | None:
    """The first email address in `text`, lower-cased, or None."""
    if not isinstance(text, str):
        return None
    found = _EMAIL_RE.search(text)
    return found.group(0).lower() if found and len(found.group(0)) <= 254 else None


def parse_period(value: object) -> str | None:
    """A canonical period name (see `crm_store.queries.Period`) or None when unknown."""
    if not isinstance(value, str):
        return None
    key = value.strip().lower().replace(" ", "_")
    return key if key in PERIODS else None


def parse_amount(value: object) -> Decimal | None:
    """ "50k" → 50000, "$1.5m" → 1500000, "25,000" → 25000; None when not an amount."""
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"\s*[$€£]?\s*([\d,]*\.?\d+)\s*([km]?)\s*", value.lower())
    if not match:
        return None
    try:
        number = Decimal(match.group(1).replace(",", ""))
    except InvalidOperation:
        return None
    return number * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2)]


def _next_weekday(today: date, weekday: int) -> date:
    """The next such weekday strictly after today ("on friday" said on a Friday = a week)."""
    days = (weekday - today.weekday() - 1) % 7 + 1
    return today + timedelta(days=days)


def parse_due(value: object, now: datetime) -> datetime:
    """When a task is due, from a canonical `due` value; tomorrow 09:00 UTC by default.

    Args:
        value: today, tomorrow, next_week, end_of_week, in_two_days, a weekday name,
            "in N days", or None.
        now: the current time (timezone-aware).

    Returns:
        A timezone-aware UTC datetime: 09:00 on the chosen day, or 17:00 for "today" and
        "end of week" (end of the working day).
    """
    today = now.astimezone(UTC).date()
    key = value.strip().lower().replace(" ", "_") if isinstance(value, str) else ""
    in_days = re.fullmatch(r"in_(\d{1,3})_days?", key)
    if key in ("today", "tonight"):
        return max(datetime.combine(today, END_OF_DAY), now + timedelta(hours=1))
    if key == "end_of_week":
        friday = today + timedelta(days=(4 - today.weekday()) % 7)
        return datetime.combine(friday, END_OF_DAY)
    if key == "next_week":
        return datetime.combine(_next_weekday(today, 0), MORNING)
    if key in WEEKDAYS:
        return datetime.combine(_next_weekday(today, WEEKDAYS.index(key)), MORNING)
    if key == "in_two_days" or in_days:
        days = 2 if key == "in_two_days" else int(in_days.group(1))  # type: ignore[union-attr]
        return datetime.combine(today + timedelta(days=days), MORNING)
    return datetime.combine(today + timedelta(days=1), MORNING)


def note_body(text: str, account_text: str | None) -> str:
    """The free text of "log a call with Acme: discussed pricing" → "discussed pricing".

    Takes what follows the first ":" or " - "; otherwise what follows the account name;
    otherwise nothing (the command alone carries no note).
    """
    for separator in (":", " - ", " – "):
        if separator in text:
            return text.split(separator, 1)[1].strip()
    if account_text:
        index = text.lower().find(account_text.lower())
        if index >= 0:
            rest = text[index + len(account_text) :].strip(" ,.;")
            return rest if len(rest.split()) >= 2 else ""
    return ""


_TASK_PREFIX = re.compile(
    r"^\s*(?:please\s+)?(?:"
    r"remind\s+me\s+(?:to\s+)?|remnd\s+me\s+(?:to\s+)?|set\s+a\s+reminder\s+(?:to\s+)?|"
    r"(?:create|add|make|new|put)\s+(?:a\s+)?(?:follow[- ]up\s+)?(?:task|to-?do|reminder)"
    r"(?:\s+on\s+my\s+list)?\s*(?:to\s+|for\s+|:\s*)?|"
    r"task\s*:\s*|to-?do\s*:?\s*|reminder\s*:\s*|schedule\s+(?:a\s+)?"
    r")",
    re.IGNORECASE,
)


def task_title(text: str, due_text: str | None, account_name: str | None) -> str:
    """A short task title from "remind me to call Globex tomorrow" → "call Globex".

    Drops the command words and the spoken due date; falls back to "Follow up with
    <account>" (or "Follow up") when nothing is left.
    """
    title = _TASK_PREFIX.sub("", text, count=1)
    if due_text:
        title = re.sub(re.escape(due_text), "", title, flags=re.IGNORECASE)
    title = re.sub(r"\s{2,}", " ", title).strip(" ,.;:-")
    if len(title) < 3:
        return f"Follow up with {account_name}" if account_name else "Follow up"
    return title[:200]
