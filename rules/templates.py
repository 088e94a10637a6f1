"""Message templates: `{deal.name}` placeholders, checked at load time, filled without eval."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rules.expr import ExprError, Schema, check_path, path_reader, to_json

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def _text(value: Any) -> str:
    value = to_json(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Template:
    """A text with `{root.field}` placeholders; a missing value renders as an empty string."""

    text: str
    # The text split once into literal pieces and field readers: a worker renders the same
    # template thousands of times per batch, and re-parsing it each time cost more than the rest.
    parts: tuple[str | Any, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts: list[str | Any] = []
        last = 0
        for match in _PLACEHOLDER.finditer(self.text):
            parts.append(self.text[last : match.start()])
            parts.append(path_reader(tuple(match.group(1).strip().split("."))))
            last = match.end()
        parts.append(self.text[last:])
        object.__setattr__(self, "parts", tuple(p for p in parts if p != ""))

    def render(self, env: Mapping[str, Any]) -> str:
        """Fill every placeholder from `env` (the same roots conditions read)."""
        return "".join(p if isinstance(p, str) else _text(p(env)) for p in self.parts)


def compile_template(text: Any, schema: Schema) -> Template:
    """Check every placeholder of `text` against `schema`.

    Raises:
        ExprError: not a string, a malformed placeholder, or an unknown record or field.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExprError("a template must be non-empty text", 1)
    for match in _PLACEHOLDER.finditer(text):
        inner = match.group(1).strip()
        if not _PATH.fullmatch(inner):
            raise ExprError(
                f"placeholder {{{inner}}} must be a field such as {{deal.name}}", match.start() + 1
            )
        check_path(tuple(inner.split(".")), schema, match.start() + 1)
    return Template(text)
