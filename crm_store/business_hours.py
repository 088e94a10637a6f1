"""When the support team is in: `CRM_BUSINESS_HOURS`, read at each handoff.

Format: `DAYS HH:MM-HH:MM TIMEZONE`, for example `mon-fri 09:00-17:00 Europe/London`.

- DAYS: three-letter English day names (`mon` ... `sun`), as a range (`mon-fri`), a comma list
  (`mon,wed,fri`) or both (`mon-thu,sat`). Ranges may wrap (`sat-mon`).
- HH:MM-HH:MM: opening and closing time, 24-hour clock, closing after opening (the end is
  exclusive: 17:00 is closed). Shifts across midnight are not supported.
- TIMEZONE: an IANA name (`Europe/London`, `America/New_York`, `UTC`); daylight saving time
  is applied by the tz database.

Unset, empty or `always` means always open (the default, and what tests assume unless they
configure hours). A malformed value raises `InvalidInputError` with the reason, so a typo
fails the first handoff loudly instead of silently sending every customer to "we're away".
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_store.errors import InvalidInputError

ENV_VAR = "CRM_BUSINESS_HOURS"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC_RE = re.compile(r"^\s*(\S+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s+(\S+)\s*$")


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Open on `days` (0 = Monday) from `opens` to `closes` (exclusive) in `tz`."""

    days: frozenset[int]
    opens: time
    closes: time
    tz: ZoneInfo

    def is_open(self, at: datetime) -> bool:
        """True when `at` (timezone-aware) falls inside the hours, in the team's time zone."""
        if at.tzinfo is None:
            raise InvalidInputError("pass a timezone-aware datetime")
        local = at.astimezone(self.tz)
        return local.weekday() in self.days and self.opens <= local.time() < self.closes


def _day(name: str) -> int:
    try:
        return DAY_NAMES.index(name.strip().lower()[:3])
    except ValueError:
        raise InvalidInputError(f"unknown day {name!r}: use mon, tue, ... sun") from None


def _days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        start, end = _day(first), _day(last or first)
        days.update((start + i) % 7 for i in range((end - start) % 7 + 1))
    return frozenset(days)


def _time(hours: str, minutes: str) -> time:
    if int(hours) > 23 or int(minutes) > 59:
        raise InvalidInputError(f"not a time: {hours}:{minutes}")
    return time(int(hours), int(minutes))


def parse_business_hours(spec: str | None) -> BusinessHours | None:
    """Parse a `CRM_BUSINESS_HOURS` value.

    Returns:
        The hours, or None for "always open" (unset, empty or `always`).

    Raises:
        InvalidInputError: a malformed value, with what is wrong.
    """
    if spec is None or spec.strip().lower() in ("", "always"):
        return None
    match = _SPEC_RE.match(spec)
    if match is None:
        raise InvalidInputError(
            f"{ENV_VAR}={spec!r}: expected 'DAYS HH:MM-HH:MM TIMEZONE', "
            "e.g. 'mon-fri 09:00-17:00 Europe/London'"
        )
    days, oh, om, ch, cm, zone = match.groups()
    opens, closes = _time(oh, om), _time(ch, cm)
    if closes <= opens:
        raise InvalidInputError(f"{ENV_VAR}: closing time must be after opening time")
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"{ENV_VAR}: unknown time zone {zone!r}") from None
    return BusinessHours(days=_days(days), opens=opens, closes=closes, tz=tz)


def team_is_in(at: datetime, spec: str | None = None) -> bool:
    """True when the team works at `at`; `spec` defaults to the environment variable."""
    hours = parse_business_hours(os.environ.get(ENV_VAR) if spec is None else spec)
    return hours is None or hours.is_open(at)


def check_configured() -> None:
    """Refuse to start with a malformed `CRM_BUSINESS_HOURS` (the API and action server call this).

    Raises:
        InvalidInputError: the variable is set and malformed, with the reason.
    """
    parse_business_hours(os.environ.get(ENV_VAR))
