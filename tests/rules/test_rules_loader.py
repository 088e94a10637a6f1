"""Rule files: bad input is reported with file and line, and only the bad rule is skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.loader import DEFAULT_RULES_DIR, load_rules, load_text

GOOD = """\
rules:
  - name: good
    owner: ops@example.com
    trigger: lead_created
    conditions:
      - lead.score >= 0.8
    actions:
      - notify: {to: "#sales", message: "Lead {lead.name}"}
"""


def _problems(text: str) -> list[str]:
    return [str(p) for p in load_text(text, "sales.yml").problems]


def test_the_starter_rules_load_cleanly() -> None:
    ruleset = load_rules(DEFAULT_RULES_DIR)
    assert ruleset.problems == []
    names = {rule.name for rule in ruleset.rules}
    assert {
        "stalled-deal-follow-up",
        "hot-lead-to-senior-rep",
        "churn-risk-save-call",
        "upset-chat-escalation",
        "ticket-near-sla",
    } <= names


def test_rules_are_indexed_by_trigger_and_priority() -> None:
    ruleset = load_text(
        GOOD
        + GOOD.replace("good", "better")
        .replace("rules:\n", "")
        .replace("    trigger", "    priority: 5\n    trigger"),
        "x.yml",
    ).index()
    assert [r.name for r in ruleset.for_event("lead_created")] == ["better", "good"]
    assert ruleset.for_event("deal_idle") == []


def test_malformed_yaml_names_the_line() -> None:
    assert _problems("rules:\n  - name: x\n  bad: : :\n    y\n") == [
        "sales.yml:3: not valid YAML: expected <block end>, but found '?'"
    ]


@pytest.mark.parametrize(
    ("bad", "line", "fragment"),
    [
        ("    colour: red\n", 9, "unknown field 'colour'"),
        ("    priority: high\n", 9, "priority must be a int"),
        ("    enabled: maybe\n", 9, "enabled must be a bool"),
    ],
)
def test_bad_fields_are_located(bad: str, line: int, fragment: str) -> None:
    problems = _problems(GOOD + bad)
    assert len(problems) == 1
    assert problems[0].startswith(f"sales.yml:{line}: rule 'good': ")
    assert fragment in problems[0]


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        ("lead.score >= 0.8", "lead.score >= 'high'", 6, "cannot order a number against a string"),
        ("lead.score >= 0.8", "deal.amount > 1", 6, "unknown name 'deal'"),
        ("lead_created", "lead_invented", 4, "unknown trigger 'lead_invented'"),
        ("- notify:", "- telepathy:", 8, "unknown action 'telepathy'"),
        ('message: "Lead {lead.name}"', 'message: "Lead {lead.nme}"', 8, "lead has no field 'nme'"),
        ('to: "#sales"', "to: lead.name", 8, "lead.name is a string, not a user id"),
    ],
)
def test_condition_and_action_errors_are_located(
    old: str, new: str, line: int, fragment: str
) -> None:
    problems = _problems(GOOD.replace(old, new))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"sales.yml:{line}: rule 'good': ")
    assert fragment in problems[0]


def test_a_bad_rule_is_skipped_and_the_others_load() -> None:
    text = GOOD + GOOD.replace("good", "broken").replace("rules:\n", "").replace(
        "lead.score >= 0.8", "lead.score >="
    )
    ruleset = load_text(text, "sales.yml")
    assert [r.name for r in ruleset.rules] == ["good"]
    assert len(ruleset.problems) == 1 and "rule 'broken'" in str(ruleset.problems[0])


def test_duplicate_names_and_missing_fields() -> None:
    problems = _problems(GOOD + GOOD.replace("rules:\n", ""))
    assert problems == ["sales.yml:9: rule 'good': duplicate rule name"]
    missing = _problems("rules:\n  - name: x\n    trigger: lead_created\n")
    assert missing == ["sales.yml:2: rule 'x': missing field 'owner'"]


def test_time_triggers_need_their_parameter() -> None:
    text = (
        GOOD.replace("trigger: lead_created", "trigger: deal_idle")
        .replace("lead.score >= 0.8", "deal.amount > 0")
        .replace("{lead.name}", "{deal.name}")
    )
    assert "trigger deal_idle needs days" in _problems(text)[0]
    ok = text.replace("trigger: deal_idle", "trigger: {event: deal_idle, days: 14}")
    assert _problems(ok) == []


def test_the_version_is_a_hash_of_the_rule_text() -> None:
    first = load_text(GOOD, "a.yml").rules[0].version
    assert load_text(GOOD, "b.yml").rules[0].version == first
    assert load_text(GOOD.replace("0.8", "0.9"), "a.yml").rules[0].version != first


def test_unreadable_and_non_rule_files(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("- just a list\n")
    (tmp_path / "b.yml").write_bytes(b"\xff\xfe rules")
    ruleset = load_rules(tmp_path)
    assert len(ruleset.problems) == 2
    assert "a rule file is a mapping with one key" in str(ruleset.problems[0])
    assert "cannot read" in str(ruleset.problems[1])
