"""Rule files: YAML in, checked `Rule` objects out; every problem names its file and line.

A file that is not valid YAML is skipped whole; inside a valid file each bad rule is skipped
and reported on its own, so one typo never stops the other rules.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rules.actions import ACTIONS, Action, ParamError
from rules.expr import Condition, ExprError, compile_condition
from rules.triggers import TRIGGERS, Trigger, schema_for

DEFAULT_RULES_DIR = Path(__file__).resolve().parent.parent / "config" / "rules"
RULE_FIELDS = {
    "name", "description", "owner", "trigger", "conditions", "actions", "priority", "enabled",
    "time_saved_minutes",
}  # fmt: skip
REQUIRED_FIELDS = ("name", "owner", "trigger", "actions")


@dataclass(frozen=True)
class RuleProblem:
    """Why a file or a rule was skipped, and where."""

    file: str
    line: int
    message: str
    rule: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return (
            f"{where}: rule {self.rule!r}: {self.message}"
            if self.rule
            else f"{where}: {self.message}"
        )


@dataclass(frozen=True)
class Rule:
    """A checked rule: all conditions must hold, then the actions run in order."""

    name: str
    owner: str
    trigger: Trigger
    trigger_value: float | None
    conditions: tuple[Condition, ...]
    actions: tuple[Action, ...]
    priority: int
    enabled: bool
    version: str
    file: str
    line: int
    description: str = ""
    time_saved_minutes: float = 0.0

    check: Callable[[Mapping[str, Any]], bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One closure per rule, built once: the worker calls it for every event of the type.
        tests = [condition.fn for condition in self.conditions]
        if self.trigger_value is not None:
            param, value = self.trigger.param, self.trigger_value
            tests.insert(0, lambda env: env["event"].get(param) == value)
        if not tests:
            check: Callable[[Mapping[str, Any]], bool] = lambda env: True  # noqa: E731
        elif len(tests) == 1:
            check = tests[0]
        else:

            def check(env: Mapping[str, Any]) -> bool:
                for test in tests:  # noqa: SIM110 - all() and a generator cost more
                    if not test(env):
                        return False
                return True

        object.__setattr__(self, "check", check)

    @property
    def index_key(self) -> tuple[str, str, Any] | None:
        """(root, field, value) that must be equal for this rule to match, if there is one:
        the time trigger's parameter, else the first condition's leading `field == literal`."""
        if self.trigger_value is not None and self.trigger.param:
            return "event", self.trigger.param, self.trigger_value
        return self.conditions[0].equals if self.conditions else None

    def matches(self, env: Mapping[str, Any]) -> bool:
        """True when the event's trigger parameter and every condition match."""
        return bool(self.check(env))

    def matched_values(self, env: Mapping[str, Any]) -> dict[str, Any]:
        """Every value the conditions read, for the audit trail."""
        values: dict[str, Any] = {}
        for condition in self.conditions:
            values.update(condition.matched_values(env))
        return values


Check = Callable[[Mapping[str, Any]], bool]
Candidate = tuple[int, Rule, Check]


class TriggerIndex:
    """The rules of one trigger, with those that need `root.field == literal` filed by the
    literal, so an event is checked only against rules it can match (a dict lookup replaces
    one closure call per rule that keys on another value).

    Calling it with an env returns (order, rule, check) candidates in priority order.
    """

    def __init__(self, rules: list[Rule]) -> None:
        self.always: list[Candidate] = []
        self.keyed: dict[tuple[str, str], dict[Any, list[Candidate]]] = {}
        for order, rule in enumerate(rules):
            key = rule.index_key
            if key is None:
                self.always.append((order, rule, rule.check))
            else:
                values = self.keyed.setdefault((key[0], key[1]), {})
                values.setdefault(key[2], []).append((order, rule, rule.check))

    def __call__(self, env: Mapping[str, Any]) -> list[Candidate]:
        """The candidates for this env, highest priority first."""
        if not self.keyed:
            return self.always
        found: list[Candidate] = []
        for (root, name), values in self.keyed.items():
            try:
                hits = values.get(env[root].get(name))
            except (KeyError, AttributeError, TypeError):  # no record, or an unhashable value
                continue
            if hits:
                found.extend(hits)
        if not found:
            return self.always
        found.extend(self.always)
        found.sort(key=_order)
        return found


def _order(candidate: Candidate) -> int:
    return candidate[0]


@dataclass
class RuleSet:
    """Loaded rules plus the problems found; `for_event` is the per-trigger index."""

    rules: list[Rule] = field(default_factory=list)
    problems: list[RuleProblem] = field(default_factory=list)
    by_trigger: dict[str, list[Rule]] = field(default_factory=dict)
    # Per trigger, the worker's index: which rules an event can match at all.
    candidates_by_trigger: dict[str, TriggerIndex] = field(default_factory=dict)

    def index(self) -> RuleSet:
        """Group the enabled rules by trigger, highest priority first (then by name)."""
        self.by_trigger = {}
        for rule in sorted(self.rules, key=lambda r: (-r.priority, r.name)):
            if rule.enabled:
                self.by_trigger.setdefault(rule.trigger.name, []).append(rule)
        self.candidates_by_trigger = {
            name: TriggerIndex(rules) for name, rules in self.by_trigger.items()
        }
        return self

    def for_event(self, event_type: str) -> list[Rule]:
        """The enabled rules for one event type (empty when none listen to it)."""
        return self.by_trigger.get(event_type, [])

    def get(self, name: str) -> Rule | None:
        """The rule called `name`, enabled or not."""
        return next((rule for rule in self.rules if rule.name == name), None)


# ------------------------------------------------------------------ YAML with line numbers


class _Located(dict[str, Any]):
    """A mapping that remembers the line of each key (1-based) and its own line."""

    line = 0
    key_lines: dict[str, int]


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Located:
    loader.flatten_mapping(node)
    mapping = _Located()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be plain text", key_node.start_mark
            )
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[str(key)] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _rule_texts(text: str) -> list[str]:
    """The source text of each rule in the file, for the rule version hash."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "rules" and isinstance(value, yaml.SequenceNode):
            return [text[item.start_mark.index : item.end_mark.index] for item in value.value]
    return []


# ------------------------------------------------------------------ building rules


class _Bad(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _line_of(mapping: Any, key: str | None, default: int) -> int:
    if isinstance(mapping, _Located):
        return mapping.key_lines.get(key or "", mapping.line) if key else mapping.line
    return default


def _trigger(raw: _Located) -> tuple[Trigger, float | None]:
    line = _line_of(raw, "trigger", raw.line)
    spec = raw["trigger"]
    if isinstance(spec, str):
        name, params = spec, {}
    elif isinstance(spec, dict) and isinstance(spec.get("event"), str):
        name, params = spec["event"], {k: v for k, v in spec.items() if k != "event"}
    else:
        raise _Bad(line, "trigger must be an event name or {event: <name>, days: N}")
    trigger = TRIGGERS.get(name)
    if trigger is None:
        raise _Bad(line, f"unknown trigger {name!r} (known: {', '.join(sorted(TRIGGERS))})")
    allowed = {trigger.param} if trigger.param else set()
    if set(params) - allowed:
        raise _Bad(line, f"trigger {name} takes {sorted(allowed) or 'no parameters'}")
    if trigger.param is None:
        return trigger, None
    value = params.get(trigger.param)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _Bad(line, f"trigger {name} needs {trigger.param}: <a positive number>")
    return trigger, float(value)


def _conditions(raw: _Located, schema: dict[str, dict[str, str]]) -> tuple[Condition, ...]:
    items = raw.get("conditions", [])
    items = [items] if isinstance(items, str) else items
    if not isinstance(items, list):
        raise _Bad(_line_of(raw, "conditions", raw.line), "conditions must be a list of text")
    base = _line_of(raw, "conditions", raw.line)
    compiled = []
    for offset, text in enumerate(items, start=1):
        line = base + offset if isinstance(raw["conditions"], list) else base
        if not isinstance(text, str):
            raise _Bad(line, f"condition {offset} must be text, not {type(text).__name__}")
        try:
            compiled.append(compile_condition(text, schema))
        except ExprError as exc:
            raise _Bad(line, f"condition {text!r}: {exc}") from exc
    return tuple(compiled)


def _actions(raw: _Located, schema: dict[str, dict[str, str]], subject: str) -> tuple[Action, ...]:
    items = raw["actions"]
    base = _line_of(raw, "actions", raw.line)
    if not isinstance(items, list) or not items:
        raise _Bad(base, "actions must be a non-empty list")
    actions = []
    for offset, item in enumerate(items, start=1):
        line = _line_of(item, None, base + offset)
        if not isinstance(item, dict) or len(item) != 1:
            raise _Bad(line, "each action is one mapping, e.g. - notify: {to: ..., message: ...}")
        ((kind, params),) = item.items()
        if kind not in ACTIONS:
            raise _Bad(line, f"unknown action {kind!r} (known: {', '.join(sorted(ACTIONS))})")
        params = params if params is not None else {}
        if not isinstance(params, dict):
            raise _Bad(line, f"{kind} takes a mapping of parameters")
        try:
            actions.append(ACTIONS[kind](params, schema, subject))
        except ParamError as exc:
            raise _Bad(_line_of(params, exc.param, line), f"{kind}: {exc}") from exc
    return tuple(actions)


def _scalar(raw: _Located, key: str, kind: type, default: Any) -> Any:
    value = raw.get(key, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _Bad(_line_of(raw, key, raw.line), f"{key} must be a {kind.__name__}")
    return value


def build_rule(raw: Any, file: str, text: str, default_line: int) -> Rule:
    """Check one rule mapping and compile it; raises `_Bad` with the line of the problem."""
    if not isinstance(raw, _Located):
        raise _Bad(default_line, "a rule must be a mapping of fields")
    unknown = [key for key in raw if key not in RULE_FIELDS]
    if unknown:
        raise _Bad(_line_of(raw, unknown[0], raw.line), f"unknown field {unknown[0]!r}")
    missing = [key for key in REQUIRED_FIELDS if key not in raw]
    if missing:
        raise _Bad(raw.line, f"missing field {missing[0]!r}")
    name = _scalar(raw, "name", str, "")
    if not name.strip() or len(name) > 100:
        raise _Bad(_line_of(raw, "name", raw.line), "name must be 1 to 100 characters")
    trigger, value = _trigger(raw)
    schema = schema_for(trigger)
    return Rule(
        name=name, owner=str(_scalar(raw, "owner", str, "")), trigger=trigger,
        trigger_value=value, conditions=_conditions(raw, schema),
        actions=_actions(raw, schema, trigger.subject),
        priority=_scalar(raw, "priority", int, 0), enabled=_scalar(raw, "enabled", bool, True),
        version=hashlib.sha256(text.encode()).hexdigest()[:16], file=file, line=raw.line,
        description=str(raw.get("description", "")),
        time_saved_minutes=_scalar(raw, "time_saved_minutes", float, 0.0),
    )  # fmt: skip


def load_text(text: str, file: str, ruleset: RuleSet | None = None) -> RuleSet:
    """Load the rules of one YAML document into `ruleset` (a new one by default)."""
    ruleset = ruleset if ruleset is not None else RuleSet()
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
        texts = _rule_texts(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        ruleset.problems.append(
            RuleProblem(file, mark.line + 1 if mark else 1, f"not valid YAML: {problem}")
        )
        return ruleset
    if (
        not isinstance(data, _Located)
        or not isinstance(data.get("rules"), list)
        or (set(data) - {"rules"})
    ):
        ruleset.problems.append(
            RuleProblem(
                file, 1, "a rule file is a mapping with one key, `rules:`, holding a list of rules"
            )
        )
        return ruleset
    seen = {rule.name for rule in ruleset.rules}
    for i, raw in enumerate(data["rules"]):
        name = raw.get("name") if isinstance(raw, dict) else None
        try:
            rule = build_rule(
                raw, file, texts[i] if i < len(texts) else repr(raw), data.key_lines["rules"] + 1
            )
        except _Bad as exc:
            ruleset.problems.append(RuleProblem(file, exc.line, exc.message, name))
            continue
        if rule.name in seen:
            ruleset.problems.append(RuleProblem(file, rule.line, "duplicate rule name", rule.name))
            continue
        seen.add(rule.name)
        ruleset.rules.append(rule)
    return ruleset


def rules_path() -> Path:
    """`CRM_RULES_PATH` when set (a file or a directory), else `config/rules/`: the worker,
    the CLI and the bot's answers about automations read the same rules."""
    return Path(os.environ.get("CRM_RULES_PATH") or DEFAULT_RULES_DIR)


def load_rules(paths: Iterable[Path] | Path | None = None) -> RuleSet:
    """Load every `*.yml` rule file of a directory (default `config/rules/`) or a file list.

    Returns:
        The indexed rule set; `problems` lists each skipped file or rule with file:line.
    """
    paths = rules_path() if paths is None else paths
    if isinstance(paths, Path):
        paths = (
            sorted(paths.glob("*.yml")) + sorted(paths.glob("*.yaml"))
            if paths.is_dir()
            else [paths]
        )
    ruleset = RuleSet()
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            ruleset.problems.append(RuleProblem(str(path), 1, f"cannot read: {exc}"))
            continue
        load_text(text, str(path), ruleset)
    return ruleset.index()
