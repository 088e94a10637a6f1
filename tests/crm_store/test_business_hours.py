"""CRM_BUSINESS_HOURS parsing and evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from channels.app import create_app
from channels.config import Settings
from crm_store.business_hours import parse_business_hours, team_is_in
from crm_store.errors import InvalidInputError


@pytest.mark.parametrize("spec", [None, "", "  ", "always", "ALWAYS"])
def test_unset_means_always_open(spec: str | None) -> None:
    assert parse_business_hours(spec) is None
    assert team_is_in(datetime(2026, 11, 29, 3, 0, tzinfo=UTC), spec=spec or "always")


def test_weekdays_in_london_with_daylight_saving() -> None:
    hours = parse_business_hours("mon-fri 09:00-17:00 Europe/London")
    assert hours is not None and hours.days == frozenset(range(5))
    assert hours.opens == time(9) and hours.closes == time(17)
    # November: London is UTC. 08:59 closed, 09:00 open, 17:00 closed (end exclusive).
    assert not hours.is_open(datetime(2026, 11, 25, 8, 59, tzinfo=UTC))
    assert hours.is_open(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    assert not hours.is_open(datetime(2026, 11, 25, 17, 0, tzinfo=UTC))
    assert not hours.is_open(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))  # Saturday
    # July: London is UTC+1, so 08:30 UTC is 09:30 local.
    assert hours.is_open(datetime(2026, 7, 1, 8, 30, tzinfo=UTC))


def test_lists_and_wrapping_ranges() -> None:
    hours = parse_business_hours("sat-mon,wed 10:00-14:30 UTC")
    assert hours is not None and hours.days == frozenset({5, 6, 0, 2})


@pytest.mark.parametrize(
    "spec",
    [
        "weekdays 9-5",
        "mon-fri 09:00-17:00",
        "mon-fri 17:00-09:00 UTC",
        "mon-fri 09:00-25:00 UTC",
        "mon-fry 09:00-17:00 UTC",
        "mon-fri 09:00-17:00 Mars/Olympus",
    ],
)
def test_malformed_values_are_refused(spec: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_business_hours(spec)


def test_naive_time_is_refused() -> None:
    hours = parse_business_hours("mon-fri 09:00-17:00 UTC")
    assert hours is not None
    with pytest.raises(InvalidInputError):
        hours.is_open(datetime(2026, 11, 25, 12, 0))


def test_processes_refuse_to_start_with_a_typo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_BUSINESS_HOURS", "mon-fri 9-5")
    with pytest.raises(InvalidInputError, match="CRM_BUSINESS_HOURS"):
        create_app(Settings())
    monkeypatch.setenv("CRM_BUSINESS_HOURS", "mon-fri 09:00-17:00 Europe/London")
    create_app(Settings())
