"""docs/rules.md documents every trigger, every action and every command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crm_cli.rules import app
from rules.actions import ACTIONS
from rules.triggers import TRIGGERS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")


def _table_names(heading: str) -> set[str]:
    section = DOC.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


@pytest.mark.parametrize("trigger", sorted(TRIGGERS))
def test_every_trigger_is_documented(trigger: str) -> None:
    assert trigger in _table_names("Triggers")


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_is_documented(action: str) -> None:
    assert action in _table_names("Actions")


def test_the_docs_name_nothing_that_does_not_exist() -> None:
    assert _table_names("Triggers") == set(TRIGGERS)
    assert _table_names("Actions") == set(ACTIONS)


COMMANDS = [c.name or c.callback.__name__ for c in app.registered_commands]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented(command: str) -> None:
    assert f"crm rules {command}" in DOC
