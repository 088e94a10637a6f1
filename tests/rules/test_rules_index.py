"""The worker's rule index: a rule keyed on `field == literal` is offered only to events with
that value, and the candidates keep the rules' priority order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rules.expr import compile_condition, equality_key, parse
from rules.loader import load_text
from rules.triggers import TRIGGERS, schema_for

RULES = """\
rules:
  - name: web-leads
    owner: ops@example.com
    trigger: lead_created
    priority: 10
    conditions: ["event.source == 'web_chat'", "lead.score >= 0.5"]
    actions: [{notify: {to: "#a", message: "x"}}]
  - name: any-lead
    owner: ops@example.com
    trigger: lead_created
    priority: 5
    conditions: ["lead.score >= 0.9"]
    actions: [{notify: {to: "#a", message: "x"}}]
  - name: imported-leads
    owner: ops@example.com
    trigger: lead_created
    priority: 20
    conditions: ["'import' == event.source and lead.score > 0"]
    actions: [{notify: {to: "#a", message: "x"}}]
  - name: no-conditions
    owner: ops@example.com
    trigger: lead_created
    priority: 1
    actions: [{notify: {to: "#a", message: "x"}}]
"""


def env(source: object, score: float | None = 0.95) -> dict:
    return {
        "now": datetime.now(UTC),
        "event": {"source": source},
        "lead": {"score": score},
        "account": {},
    }


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("event.source == 'web_chat'", ("event", "source", "web_chat")),
        ("'web_chat' == event.source and lead.score > 1", ("event", "source", "web_chat")),
        ("lead.score > 1 and event.source == 'x'", None),  # only the first operand of `and`
        ("event.source == 'a' or lead.score > 1", None),
        ("event.source != 'a'", None),
        ("lead.score == null", ("lead", "score", None)),
    ],
)
def test_equality_key(text: str, key: tuple | None) -> None:
    schema = schema_for(TRIGGERS["lead_created"])
    assert equality_key(parse(text)) == key
    assert compile_condition(text, schema).equals == key


def test_candidates_are_only_the_rules_an_event_can_match_in_priority_order() -> None:
    ruleset = load_text(RULES, "index.yml").index()
    index = ruleset.candidates_by_trigger["lead_created"]
    names = lambda e: [rule.name for _, rule, _ in index(e)]  # noqa: E731
    assert names(env("web_chat")) == ["web-leads", "any-lead", "no-conditions"]
    assert names(env("import")) == ["imported-leads", "any-lead", "no-conditions"]
    assert names(env("phone")) == ["any-lead", "no-conditions"]
    assert names(env(["unhashable"])) == ["any-lead", "no-conditions"]
    for event_env in (env("web_chat"), env("import"), env("phone", 0.2), env(None, None)):
        every = [r.name for r in ruleset.for_event("lead_created") if r.check(event_env)]
        offered = [rule.name for _, rule, check in index(event_env) if check(event_env)]
        assert offered == every  # the index never hides a match nor changes the order


def test_a_time_trigger_is_keyed_on_its_parameter() -> None:
    text = (
        RULES.replace("lead_created", "{event: deal_idle, days: 14}")
        .replace("event.source", "deal.stage")
        .replace("lead.score", "deal.amount")
    )
    ruleset = load_text(text, "idle.yml").index()
    index = ruleset.candidates_by_trigger["deal_idle"]
    at = {"now": datetime.now(UTC), "account": {}, "deal": {"stage": "x", "amount": 1.0}}
    assert [r.name for _, r, _ in index({**at, "event": {"days": 14}})] == [
        "imported-leads",
        "web-leads",
        "any-lead",
        "no-conditions",
    ]
    assert index({**at, "event": {"days": 30}}) == []
