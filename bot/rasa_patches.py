"""Measured performance fixes for Rasa 3.6.21, applied when a Rasa process starts.

Rasa checks every action-server response with `jsonschema.validate(result, schema)`, and
`validate` first checks the *schema* against its meta-schema, on every call. Profiled with
py-spy under 10 concurrent chat sessions, that check was 61 % of the Rasa server's CPU. Here
the validator is built once; responses are validated against the same schema and raise the
same `ValidationError`, so behaviour is unchanged. Remove when Rasa is upgraded.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=4)
def _validator(action_class: type) -> Any:
    from jsonschema.validators import validator_for

    schema = action_class.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate would on every call
    return cls(schema)


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    from jsonschema import exceptions

    error = exceptions.best_match(_validator(type(self)).iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response "
        "from the Action endpoint is valid."
    )
    raise error


_TARGET = "rasa.core.actions.action"


def _patch(module: Any) -> None:
    module.RemoteAction._validate_action_result = _validate_action_result


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches the target module right after Python executes it.

    Lazy on purpose: importing Rasa costs seconds (TensorFlow), and this hook runs at the
    start of every Python process of the Rasa venv, including ones that never load Rasa.
    """

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != _TARGET:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module: Any) -> None:
            exec_module(module)
            _patch(module)

        spec.loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Arrange for Rasa to be patched when (and if) it is imported."""
    if _TARGET in sys.modules:
        _patch(sys.modules[_TARGET])
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
