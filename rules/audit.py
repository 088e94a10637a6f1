"""Tuning: replay history against rule files without side effects, and firing statistics."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.models import CrmEvent, RuleFiring, utcnow
from rules.context import build_envs
from rules.loader import RuleSet

SAMPLES_PER_RULE = 3


@dataclass
class RuleReplay:
    """What one rule would have done over the replayed events."""

    name: str
    version: str
    would_fire: int = 0
    already_fired: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Simulation:
    """The whole replay: events read, and per rule what would have fired."""

    since: datetime
    events: int = 0
    rules: dict[str, RuleReplay] = field(default_factory=dict)


def simulate(
    session: Session,
    ruleset: RuleSet,
    since: datetime,
    chunk: int = 1000,
    include_disabled: bool = True,
) -> Simulation:
    """Evaluate the rules on every event since `since`, as at each event's time; write nothing.

    Conditions read the records as they are now (the store keeps no history of fields), with
    `now` set to the event's time so date arithmetic means what it meant then. Actions are only
    described. `already_fired` counts events the current rule already acted on.
    """
    report = Simulation(since=since)
    rules = [r for r in ruleset.rules if include_disabled or r.enabled]
    by_type: dict[str, list[Any]] = defaultdict(list)
    for rule in rules:
        by_type[rule.trigger.name].append(rule)
        report.rules[rule.name] = RuleReplay(rule.name, rule.version)
    fired = set(session.execute(
        select(RuleFiring.rule_name, RuleFiring.event_id).join(CrmEvent)
        .where(CrmEvent.occurred_at >= since)
    ).tuples())  # fmt: skip
    last_id = 0
    while True:
        events = list(session.scalars(
            select(CrmEvent).where(CrmEvent.occurred_at >= since, CrmEvent.id > last_id)
            .order_by(CrmEvent.id).limit(chunk)
        ))  # fmt: skip
        if not events:
            break
        last_id = events[-1].id
        report.events += len(events)
        for event, env in zip(events, build_envs(session, events, since), strict=True):
            env["now"] = event.occurred_at
            for rule in by_type.get(event.type, []):
                if rule.matches(env):
                    _record(
                        report.rules[rule.name], rule, event, env, (rule.name, event.id) in fired
                    )
    session.rollback()
    return report


def _record(
    replay: RuleReplay, rule: Any, event: CrmEvent, env: dict[str, Any], fired: bool
) -> None:
    replay.would_fire += 1
    replay.already_fired += fired
    if len(replay.samples) < SAMPLES_PER_RULE:
        replay.samples.append({
            "event_id": event.id, "occurred_at": event.occurred_at.isoformat(),
            "matched": rule.matched_values(env),
            "actions": [action.describe(env) for action in rule.actions],
        })  # fmt: skip


@dataclass(frozen=True)
class RuleStats:
    """Firings per rule since a time, and the manual minutes they stand for."""

    name: str
    fired: int
    failed: int
    last_fired_at: datetime | None
    minutes_saved: float
    versions: int


def minutes_per_firing(ruleset: RuleSet, name: str) -> float:
    """The rule's own `time_saved_minutes`, else the sum of its actions' estimates."""
    rule = ruleset.get(name)
    if rule is None:
        return 0.0
    return rule.time_saved_minutes or sum(action.minutes_saved for action in rule.actions)


def stats(session: Session, ruleset: RuleSet, since: datetime | None = None) -> list[RuleStats]:
    """Per rule (in the files or in the audit trail): firings, failures, time saved."""
    stmt = select(
        RuleFiring.rule_name,
        RuleFiring.status,
        func.count(),
        func.max(RuleFiring.fired_at),
        func.count(func.distinct(RuleFiring.rule_version)),
    ).group_by(RuleFiring.rule_name, RuleFiring.status)
    if since is not None:
        stmt = stmt.where(RuleFiring.fired_at >= since)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    last: dict[str, datetime] = {}
    versions: Counter[str] = Counter()
    for name, status, count, latest, nversions in session.execute(stmt):
        counts[name][status] += count
        versions[name] = max(versions[name], nversions)
        if status == "fired" and latest is not None:
            latest = latest if latest.tzinfo else latest.replace(tzinfo=utcnow().tzinfo)
            last[name] = max(latest, last.get(name, latest))
    names = [rule.name for rule in ruleset.rules] + sorted(
        set(counts) - {r.name for r in ruleset.rules}
    )
    return [
        RuleStats(
            name,
            counts[name]["fired"],
            counts[name]["failed"],
            last.get(name),
            counts[name]["fired"] * minutes_per_firing(ruleset, name),
            versions[name],
        )
        for name in names
    ]
