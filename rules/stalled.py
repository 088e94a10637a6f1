"""When a deal counts as stalled: the threshold the stalled-deal rule acts on.

The bot's "which of my deals are stalled?" and the rule that books follow-ups must agree, so
the answer reads the idle days from the rule files instead of a number of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.loader import RuleSet

STALLED_RULE = "stalled-deal-follow-up"
DEFAULT_IDLE_DAYS = 14


@dataclass(frozen=True)
class StalledThreshold:
    """Idle days after which an open deal is stalled, and the rule that says so (or None)."""

    days: int
    rule: str | None


def stalled_threshold(ruleset: RuleSet) -> StalledThreshold:
    """The enabled `stalled-deal-follow-up` rule's idle days; else the shortest idle period
    of any enabled `deal_idle` rule; else 14 days with no rule behind it."""
    idle = [
        r for r in ruleset.rules if r.enabled and r.trigger.name == "deal_idle" and r.trigger_value
    ]
    chosen = next((r for r in idle if r.name == STALLED_RULE), None) or min(
        idle, key=lambda r: (r.trigger_value, r.name), default=None
    )
    if chosen is None or chosen.trigger_value is None:
        return StalledThreshold(DEFAULT_IDLE_DAYS, None)
    return StalledThreshold(max(1, round(chosen.trigger_value)), chosen.name)
