"""The condition language: parsed once at load time, compiled to closures, never `eval`.

Grammar (lowest precedence first)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in") sum)?
    sum     := unary (("+" | "-") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | DURATION | STRING | true | false | null | now
             | NAME ("." NAME)* | "(" expr ")" | "[" (expr ("," expr)*)? "]"

Durations are a number and a unit: `30m`, `4h`, `14d`, `2w`. A path such as `deal.amount`
reads a field of a record the event touches; which records and fields exist is declared by
the caller (`Schema`), so typos and type errors are reported before any rule runs.
At run time a missing value (null) makes every ordering comparison false.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

Env = Mapping[str, Any]
Compiled = Callable[[Env], Any]

# Static types the checker knows; "any" is compatible with everything (payload values).
NUMBER, STRING, BOOL, DATETIME, DURATION, LIST, NULL, ANY = (
    "number", "string", "bool", "datetime", "duration", "list", "null", "any",
)  # fmt: skip
Schema = Mapping[str, Mapping[str, str]]  # root name -> field name -> static type

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_TOKEN_RE = re.compile(
    r"""\s*(?:
      (?P<duration>\d+(?:\.\d+)?[mhdw])(?![A-Za-z0-9_])
    | (?P<number>\d+(?:\.\d+)?)(?![A-Za-z_])
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>==|!=|<=|>=|<|>|\+|-|\(|\)|\[|\]|,|\.)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null", "now"}


class ExprError(ValueError):
    """A condition that cannot be parsed or type-checked; `column` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"column {column}: {message}")
        self.message = message
        self.column = column


@dataclass(frozen=True)
class Token:
    kind: str  # duration | number | string | name | op | end
    text: str
    pos: int


def parse_duration(text: str) -> timedelta:
    """`14d` → 14 days; raises ValueError for anything else."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)([mhdw])\s*", str(text))
    if not match:
        raise ValueError(f"not a duration (use e.g. 30m, 4h, 14d, 2w): {text!r}")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens, refusing any character outside the language."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN_RE.match(text, pos)
        if match is None or match.end() == pos:
            col = pos + len(text[pos:]) - len(text[pos:].lstrip()) + 1
            raise ExprError(f"unexpected character {text[col - 1]!r}", col)
        kind = match.lastgroup or "op"
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# AST nodes are tuples: (kind, pos, ...) keeps the parser and compiler small.
Node = tuple[Any, ...]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token.kind in ("op", "name") and token.text == text:
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            token = self.peek()
            found = token.text or "end of condition"
            raise ExprError(f"expected {text!r}, found {found!r}", token.pos + 1)

    def parse(self) -> Node:
        node = self.or_()
        token = self.peek()
        if token.kind != "end":
            raise ExprError(f"unexpected {token.text!r}", token.pos + 1)
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.peek().text == "or" and self.peek().kind == "name":
            pos = self.take().pos
            node = ("or", pos, node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.peek().text == "and" and self.peek().kind == "name":
            pos = self.take().pos
            node = ("and", pos, node, self.not_())
        return node

    def not_(self) -> Node:
        token = self.peek()
        if token.kind == "name" and token.text == "not":
            self.take()
            return ("not", token.pos, self.not_())
        return self.compare()

    def compare(self) -> Node:
        left = self.sum_()
        token = self.peek()
        if token.kind == "op" and token.text in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            return ("cmp", token.pos, token.text, left, self.sum_())
        if token.kind == "name" and token.text == "in":
            self.take()
            return ("in", token.pos, left, self.sum_())
        if token.kind == "name" and token.text == "not" and self.tokens[self.i + 1].text == "in":
            self.i += 2
            return ("not", token.pos, ("in", token.pos, left, self.sum_()))
        return left

    def sum_(self) -> Node:
        node = self.unary()
        while self.peek().kind == "op" and self.peek().text in ("+", "-"):
            token = self.take()
            node = ("arith", token.pos, token.text, node, self.unary())
        return node

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.text == "-":
            self.take()
            return ("neg", token.pos, self.unary())
        return self.atom()

    def atom(self) -> Node:  # noqa: PLR0911 - one branch per literal kind
        token = self.take()
        if token.kind == "number":
            return ("lit", token.pos, float(token.text), NUMBER)
        if token.kind == "duration":
            return ("lit", token.pos, parse_duration(token.text), DURATION)
        if token.kind == "string":
            return ("lit", token.pos, _unquote(token.text), STRING)
        if token.kind == "name":
            return self.name(token)
        if token.text == "(":
            node = self.or_()
            self.expect(")")
            return node
        if token.text == "[":
            return self.list_(token)
        found = token.text or "end of condition"
        raise ExprError(f"expected a value, found {found!r}", token.pos + 1)

    def name(self, token: Token) -> Node:
        literals = {"true": (True, BOOL), "false": (False, BOOL), "null": (None, NULL)}
        if token.text in literals:
            value, kind = literals[token.text]
            return ("lit", token.pos, value, kind)
        if token.text == "now":
            return ("now", token.pos)
        if token.text in _KEYWORDS:
            raise ExprError(f"expected a value, found {token.text!r}", token.pos + 1)
        parts = [token.text]
        while self.accept("."):
            part = self.take()
            if part.kind != "name":
                raise ExprError("expected a field name after '.'", part.pos + 1)
            parts.append(part.text)
        return ("path", token.pos, tuple(parts))

    def list_(self, token: Token) -> Node:
        items: list[Node] = []
        if not self.accept("]"):
            items.append(self.or_())
            while self.accept(","):
                items.append(self.or_())
            self.expect("]")
        return ("list", token.pos, tuple(items))


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def parse(text: str) -> Node:
    """Parse a condition into an AST; raises ExprError with the column of the problem."""
    if not isinstance(text, str) or not text.strip():
        raise ExprError("empty condition", 1)
    return _Parser(text).parse()


# ---------------------------------------------------------------- type checking

_ORDERED = {NUMBER, STRING, DATETIME, DURATION}


def _compatible(a: str, b: str) -> bool:
    return a == b or ANY in (a, b)


def check(node: Node, schema: Schema) -> str:
    """Return the static type of `node`, raising ExprError for type errors and unknown names."""
    kind, pos = node[0], node[1]
    col = pos + 1
    if kind == "lit":
        return node[3]
    if kind == "now":
        return DATETIME
    if kind == "path":
        return check_path(node[2], schema, col)
    if kind == "list":
        for item in node[2]:
            check(item, schema)
        return LIST
    if kind in ("and", "or"):
        for side in node[2:]:
            _require_bool(check(side, schema), kind, side[1] + 1)
        return BOOL
    if kind == "not":
        _require_bool(check(node[2], schema), "not", col)
        return BOOL
    if kind == "neg":
        inner = check(node[2], schema)
        if inner not in (NUMBER, DURATION, ANY):
            raise ExprError(f"cannot negate a {inner}", col)
        return inner
    if kind == "arith":
        return _check_arith(node[2], check(node[3], schema), check(node[4], schema), col)
    if kind == "in":
        right = check(node[3], schema)
        check(node[2], schema)
        if right not in (LIST, STRING, ANY):
            raise ExprError(f"'in' needs a list or a string on the right, not a {right}", col)
        return BOOL
    return _check_cmp(node[2], check(node[3], schema), check(node[4], schema), col)


def check_path(parts: tuple[str, ...], schema: Schema, col: int) -> str:
    root = parts[0]
    if root not in schema:
        known = ", ".join(sorted(schema)) or "none"
        raise ExprError(f"unknown name {root!r} (this trigger offers: {known})", col)
    if len(parts) == 1:
        raise ExprError(f"{root!r} is a record; name one of its fields, e.g. {root}.id", col)
    fields = schema[root]
    if parts[1] not in fields:
        names = ", ".join(sorted(fields))
        raise ExprError(f"{root} has no field {parts[1]!r} (fields: {names})", col)
    if len(parts) > 2 and fields[parts[1]] != ANY:
        raise ExprError(f"{root}.{parts[1]} is a {fields[parts[1]]}, it has no fields", col)
    return fields[parts[1]] if len(parts) == 2 else ANY


def _require_bool(kind: str, op: str, col: int) -> None:
    if kind not in (BOOL, ANY):
        raise ExprError(f"'{op}' needs true/false values, not a {kind}", col)


def _check_arith(op: str, left: str, right: str, col: int) -> str:
    if ANY in (left, right):
        return ANY
    table = {
        ("+", NUMBER, NUMBER): NUMBER, ("-", NUMBER, NUMBER): NUMBER,
        ("+", DATETIME, DURATION): DATETIME, ("-", DATETIME, DURATION): DATETIME,
        ("+", DURATION, DATETIME): DATETIME, ("-", DATETIME, DATETIME): DURATION,
        ("+", DURATION, DURATION): DURATION, ("-", DURATION, DURATION): DURATION,
        ("+", STRING, STRING): STRING,
    }  # fmt: skip
    result = table.get((op, left, right))
    if result is None:
        raise ExprError(f"cannot compute {left} {op} {right}", col)
    return result


def _check_cmp(op: str, left: str, right: str, col: int) -> str:
    if op in ("==", "!="):
        if not (_compatible(left, right) or NULL in (left, right)):
            raise ExprError(f"comparing a {left} with a {right} is always false", col)
        return BOOL
    if NULL in (left, right):
        raise ExprError(f"'{op}' with null is always false; use == null or != null", col)
    if not _compatible(left, right):
        raise ExprError(f"cannot order a {left} against a {right}", col)
    if left not in _ORDERED | {ANY}:
        raise ExprError(f"'{op}' does not apply to a {left}", col)
    return BOOL


# ---------------------------------------------------------------- compilation

_CMP = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip
_ARITH = {"+": operator.add, "-": operator.sub}


def compile_node(node: Node) -> Compiled:  # noqa: PLR0911 - one closure per node kind
    """Turn a checked AST into a closure `f(env) -> value`; env maps roots to field dicts."""
    kind = node[0]
    if kind == "lit":
        value = node[2]
        return lambda env: value
    if kind == "now":
        return lambda env: env["now"]
    if kind == "path":
        return path_reader(node[2])
    if kind == "list":
        if all(item[0] == "lit" for item in node[2]):
            constant = _constant_list([item[2] for item in node[2]])
            return lambda env: constant
        items = [compile_node(item) for item in node[2]]
        return lambda env: [item(env) for item in items]
    if kind == "and":
        a, b = compile_node(node[2]), compile_node(node[3])
        return lambda env: bool(a(env) and b(env))
    if kind == "or":
        a, b = compile_node(node[2]), compile_node(node[3])
        return lambda env: bool(a(env) or b(env))
    if kind == "not":
        a = compile_node(node[2])
        return lambda env: not a(env)
    if kind == "neg":
        a = compile_node(node[2])
        return lambda env: _safe(operator.neg, a(env))
    if kind == "arith":
        if node[3][0] == "now" and node[4][0] == "lit":
            return _compile_now_shift(_ARITH[node[2]], node[4][2])
        return _compile_arith(_ARITH[node[2]], compile_node(node[3]), compile_node(node[4]))
    if kind == "in":
        return _compile_in(compile_node(node[2]), compile_node(node[3]))
    left, right = node[3], node[4]
    if left[0] == "path" and len(left[2]) == 2 and right[0] == "lit":
        return _compile_field_vs_literal(node[2], left[2], right[2])
    return _compile_cmp(node[2], compile_node(left), compile_node(right))


def _safe(fn: Callable[..., Any], *args: Any) -> Any:
    if any(arg is None for arg in args):
        return None
    try:
        return fn(*args)
    except (TypeError, ValueError, OverflowError):
        return None


def path_reader(parts: tuple[str, ...]) -> Compiled:
    """A closure reading `root.field[.key...]` from an env; None when anything is missing."""
    root, field = parts[0], parts[1]
    rest = parts[2:]
    if not rest:  # the common case, kept to one dict lookup and one .get

        def read_field(env: Env) -> Any:
            try:
                return env[root].get(field)
            except (KeyError, AttributeError):
                return None

        return read_field

    def read(env: Env) -> Any:
        value = (env.get(root) or {}).get(field)
        for part in rest:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    return read


def _compile_now_shift(fn: Callable[[Any, Any], Any], shift: Any) -> Compiled:
    """`now - 14d`: computed once per batch (every env of a batch shares one `now`)."""
    last: list[tuple[Any, Any]] = [(None, None)]

    def shifted(env: Env) -> Any:
        now = env["now"]
        seen, value = last[0]  # one tuple, replaced whole: safe across threads
        if seen is not now:
            value = _safe(fn, now, shift)
            last[0] = (now, value)
        return value

    return shifted


def _compile_arith(fn: Callable[[Any, Any], Any], a: Compiled, b: Compiled) -> Compiled:
    return lambda env: _safe(fn, a(env), b(env))


def _compile_in(a: Compiled, b: Compiled) -> Compiled:
    def contains(env: Env) -> bool:
        item, container = a(env), b(env)
        if item is None or container is None:
            return False
        try:
            return item in container
        except TypeError:
            return False

    return contains


def _constant_list(values: list[Any]) -> Any:
    # A literal list is built once; a frozenset makes `in` one hash lookup when it can.
    try:
        return frozenset(values)
    except TypeError:
        return tuple(values)


def _compile_cmp(op: str, a: Compiled, b: Compiled) -> Compiled:
    fn = _CMP[op]
    if op in ("==", "!="):
        return lambda env: fn(a(env), b(env))

    def ordered(env: Env) -> bool:
        left, right = a(env), b(env)
        if left is None or right is None:
            return False
        try:
            return bool(fn(left, right))
        except TypeError:
            return False

    return ordered


def _compile_field_vs_literal(op: str, parts: tuple[str, ...], literal: Any) -> Compiled:
    """`deal.amount > 5000`, the most common condition, in one closure without inner calls."""
    fn = _CMP[op]
    root, field = parts
    ordering = op not in ("==", "!=")

    def compare(env: Env) -> bool:
        try:
            left = env[root].get(field)
        except (KeyError, AttributeError):
            left = None
        if ordering and (left is None or literal is None):
            return False
        try:
            return bool(fn(left, literal))
        except TypeError:
            return False

    return compare


@dataclass(frozen=True)
class Condition:
    """A parsed, checked and compiled condition; `paths` are the fields it reads (for audit)."""

    text: str
    fn: Compiled
    paths: tuple[tuple[str, ...], ...]
    # (root, field, literal) when the condition can only hold if `root.field == literal`
    # (alone or as the first operand of a top-level `and`): the rule index looks it up.
    equals: tuple[str, str, Any] | None = None

    def __call__(self, env: Env) -> bool:
        return bool(self.fn(env))

    readers: tuple[tuple[str, Compiled], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built once: every firing records what its conditions read.
        readers = tuple((".".join(p), path_reader(p)) for p in self.paths)
        object.__setattr__(self, "readers", readers)

    def matched_values(self, env: Env) -> dict[str, Any]:
        """The values this condition read, by dotted path, JSON-ready (for the audit trail)."""
        return {name: to_json(read(env)) for name, read in self.readers}


def _is_node(value: Any) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) > 1
        and isinstance(value[0], str)
        and (isinstance(value[1], int))
    )


def _paths(node: Node) -> list[tuple[str, ...]]:
    if node[0] == "path":
        return [node[2]]
    found: list[tuple[str, ...]] = []
    for part in node[2:]:
        children = [part] if _is_node(part) else part if isinstance(part, tuple) else []
        for child in children:
            if _is_node(child):
                found.extend(_paths(child))
    return found


def compile_condition(text: str, schema: Schema) -> Condition:
    """Parse, type-check and compile `text`; the result must be true/false.

    Raises:
        ExprError: syntax errors, unknown names or fields, and type errors, with a column.
    """
    node = parse(text)
    kind = check(node, schema)
    if kind not in (BOOL, ANY):
        raise ExprError(f"a condition must be true or false, this is a {kind}", 1)
    return Condition(
        text, compile_node(node), tuple(dict.fromkeys(_paths(node))), equality_key(node)
    )


def equality_key(node: Node) -> tuple[str, str, Any] | None:
    """`root.field == literal` that must hold for the whole condition to hold, else None."""
    while node[0] == "and":
        node = node[2]
    if node[0] != "cmp" or node[2] != "==":
        return None
    left, right = node[3], node[4]
    if left[0] == "lit" and right[0] == "path":
        left, right = right, left
    if left[0] != "path" or len(left[2]) != 2 or right[0] != "lit":
        return None
    try:
        hash(right[2])
    except TypeError:
        return None
    return left[2][0], left[2][1], right[2]


def to_json(value: Any) -> Any:
    """Datetimes as ISO text, durations as seconds; everything else as is."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value
