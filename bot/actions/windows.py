"""Spans of time as reps say them: "this week", "in the last 30 days", "for two weeks".

Pure functions (no I/O). The span is read from the message text rather than from an NLU
entity: the phrasing is open ("past fortnight", "last 3 weeks") and a regular expression
reads numbers and units more reliably than a classifier trained on a few examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

DEFAULT_LOOKBACK_DAYS = 7
MAX_DAYS = 3660

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14,
    "fifteen": 15, "twenty": 20, "thirty": 30, "forty-five": 45, "sixty": 60, "ninety": 90,
    "couple of": 2, "few": 3,
}  # fmt: skip
_UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14, "month": 30, "year": 365}
_WORDS = "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True))
_AMOUNT = rf"(\d{{1,4}}|{_WORDS})"
_SPAN = re.compile(
    rf"\b(?:{_AMOUNT}\s+)?(days?|weeks?|fortnights?|months?|years?)\b", re.IGNORECASE
)
_LAST = re.compile(r"\b(?:last|past|previous|recent|in the last|over the last)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Lookback:
    """The start of a window and how to say it in a reply ("this week", "in the last 30 days")."""

    since: datetime
    label: str


def span_days(text: str) -> int | None:
    """Days in the first "N units" span of `text` ("two weeks" → 14, "30 days" → 30,
    "a month" → 30); None when the text names no span. A unit without a number counts once
    only after "last"/"past" ("in the past week" → 7), not alone ("weekly" → None)."""
    for match in _SPAN.finditer(text):
        amount, unit = match.group(1), match.group(2).lower().rstrip("s")
        if amount is None and not _LAST.search(text[: match.start()]):
            continue
        count = (
            1
            if amount is None
            else (int(amount) if amount.isdigit() else _NUMBER_WORDS[amount.lower()])
        )
        days = count * _UNIT_DAYS[unit]
        if 1 <= days <= MAX_DAYS:
            return days
    return None


def _midnight(day: datetime) -> datetime:
    return datetime.combine(day.date(), time(0, 0), tzinfo=UTC)


def parse_lookback(text: str, now: datetime) -> Lookback:
    """The window a question about "what happened" covers; the last 7 days by default.

    Calendar words start at midnight UTC: "today", "yesterday" (from yesterday's start),
    "this week" (from Monday), "this month" (from the 1st). "Last week" and "last month"
    mean the last 7 and 30 days; "in the last N days/weeks/months" means that many days.
    """
    now = now.astimezone(UTC)
    lowered = text.lower()
    if "today" in lowered:
        return Lookback(_midnight(now), "today")
    if "yesterday" in lowered:
        return Lookback(_midnight(now - timedelta(days=1)), "since yesterday")
    if "this week" in lowered:
        monday = _midnight(now - timedelta(days=now.weekday()))
        return Lookback(monday, f"this week (since Monday {monday:%d %b})")
    if "this month" in lowered:
        first = _midnight(now.replace(day=1))
        return Lookback(first, f"this month (since {first:%d %b})")
    days = span_days(text) or DEFAULT_LOOKBACK_DAYS
    return Lookback(now - timedelta(days=days), f"in the last {days} days")
