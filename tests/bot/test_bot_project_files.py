"""The Rasa project files agree with each other and with the action code.

rasa-sdk only logs a warning for a missing validator or an unknown response, and Rasa
fails at run time for an unregistered action; these checks catch all three before that.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from bot_support import BOT_DIR, load_yaml
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.forms import FormValidationAction

import bot.actions

YAML_FILES = sorted(
    [*BOT_DIR.glob("*.yml"), *(BOT_DIR / "data").rglob("*.yml")], key=lambda p: str(p)
)
ACTIONS_DIR = Path(bot.actions.__file__).parent
MIN_EXAMPLES = 25


@pytest.fixture(scope="module")
def executor() -> ActionExecutor:
    found = ActionExecutor()
    found.register_package("bot.actions")
    return found


def nlu_blocks() -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for path in (BOT_DIR / "data" / "nlu").glob("*.yml"):
        blocks.extend(load_yaml(path).get("nlu", []))
    return blocks


def examples(block: dict[str, Any]) -> list[str]:
    return [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(BOT_DIR)))
def test_yaml_files_parse_with_a_version(path: Path) -> None:
    content = load_yaml(path)
    assert isinstance(content, dict) and content, path
    # Only training data and the domain carry a format version; endpoints files do not.
    if path.name not in ("config.yml", "credentials.yml") and not path.name.startswith("endpoints"):
        assert content.get("version") == "3.1"


def test_every_domain_action_is_registered_and_vice_versa(
    domain: dict[str, Any], executor: ActionExecutor
) -> None:
    registered = set(executor.actions)
    declared = set(domain["actions"])
    assert declared <= registered, declared - registered
    ours = {name for name in registered if name.startswith(("action_", "validate_"))}
    assert ours <= declared, ours - declared


def test_every_response_the_actions_use_exists() -> None:
    domain_responses = set(load_yaml(BOT_DIR / "domain.yml")["responses"])
    used: set[str] = set()
    for path in ACTIONS_DIR.glob("*.py"):
        used |= set(re.findall(r"\"(utter_[a-z_]+)\"", path.read_text(encoding="utf-8")))
    assert used, "no responses found in the actions"
    assert used <= domain_responses, used - domain_responses


def test_every_form_slot_has_a_validator(domain: dict[str, Any], executor: ActionExecutor) -> None:
    for form, spec in domain["forms"].items():
        validator = executor.actions.get(f"validate_{form}")
        assert validator is not None, f"validate_{form} is not registered"
        instance = validator.__self__
        assert isinstance(instance, FormValidationAction)
        for slot in spec["required_slots"]:
            method = getattr(instance, f"validate_{slot.replace('-', '_')}", None)
            assert callable(method), f"{form}: no validate_{slot}"
            assert list(inspect.signature(method).parameters)[:1] == ["value"]


def test_every_form_slot_can_be_asked_for(domain: dict[str, Any]) -> None:
    for spec in domain["forms"].values():
        for slot in spec["required_slots"]:
            assert f"utter_ask_{slot}" in domain["responses"], slot
            assert slot in domain["slots"], slot


def test_intents_have_enough_examples_and_entities_are_declared(domain: dict[str, Any]) -> None:
    counts: dict[str, int] = {}
    annotated: set[str] = set()
    for block in nlu_blocks():
        if "intent" in block:
            lines = examples(block)
            counts[block["intent"]] = counts.get(block["intent"], 0) + len(lines)
            for line in lines:
                annotated |= set(re.findall(r"\]\(([a-z_]+)\)", line))
    assert set(counts) == set(domain["intents"])
    thin = {intent: n for intent, n in counts.items() if n < MIN_EXAMPLES}
    assert not thin, thin
    assert annotated <= set(domain["entities"]), annotated - set(domain["entities"])


def test_no_example_is_given_to_two_intents() -> None:
    owner: dict[str, str] = {}
    for block in nlu_blocks():
        for line in examples(block) if "intent" in block else []:
            plain = re.sub(r"\[([^\]]+)\]\([a-z_]+\)", r"\1", line).lower()
            assert owner.setdefault(plain, block["intent"]) == block["intent"], plain


def test_rules_and_stories_use_known_intents_and_actions(domain: dict[str, Any]) -> None:
    known_actions = {*domain["actions"], *domain["responses"], *domain["forms"]}
    known_actions |= {"action_deactivate_loop", "action_listen"}
    for name in ("rules.yml", "stories.yml"):
        content = load_yaml(BOT_DIR / "data" / name)
        for block in content.get("rules", []) + content.get("stories", []):
            for step in block["steps"]:
                if "intent" in step:
                    assert step["intent"] in {*domain["intents"], "nlu_fallback"}, step
                if "action" in step:
                    assert step["action"] in known_actions, step


def test_pipeline_is_the_fast_one() -> None:
    config = load_yaml(BOT_DIR / "config.yml")
    names = [component["name"] for component in config["pipeline"]]
    assert "DIETClassifier" not in names
    assert "components.linear_intent_classifier.LinearIntentClassifier" in names
    assert "FallbackClassifier" in names
    assert {policy["name"] for policy in config["policies"]} == {"RulePolicy", "MemoizationPolicy"}
    assert config["assistant_id"]


def test_endpoints_read_the_action_server_url_from_the_environment() -> None:
    endpoint = load_yaml(BOT_DIR / "endpoints.yml")["action_endpoint"]
    assert endpoint["url"] == "${ACTION_ENDPOINT_URL}"
    # Rasa's implicit env-var resolver skips quoted scalars: the value must stay unquoted.
    raw = (BOT_DIR / "endpoints.yml").read_text(encoding="utf-8")
    assert re.search(r"^\s+url: \$\{ACTION_ENDPOINT_URL\}\s*$", raw, re.MULTILINE)
    assert "rest" in load_yaml(BOT_DIR / "credentials.yml")
