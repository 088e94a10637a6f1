"""Message templates: `{deal.name}` placeholders, checked at load time, filled without eval."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules.expr import ExprError, Schema, check_path, path_reader, to_json

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


@dataclass(frozen=True)
class Template:
    """A text with `{root.field}` placeholders; a missing value renders as an empty string."""

    text: str

    def render(self, env: Mapping[str, Any]) -> str:
        """Fill every placeholder from `env` (the same roots conditions read)."""

        def fill(match: re.Match[str]) -> str:
            value = to_json(path_reader(tuple(match.group(1).strip().split(".")))(env))
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            return "" if value is None else str(value)

        return _PLACEHOLDER.sub(fill, self.text)


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
            raise ExprError(f"placeholder {{{inner}}} must be a field such as {{deal.name}}",
                            match.start() + 1)
        check_path(tuple(inner.split(".")), schema, match.start() + 1)
    return Template(text)
