"""Patches for Rasa 3.6.21, applied when a Rasa process starts.

1. Performance. Rasa checks every action-server response with `jsonschema.validate(result,
   schema)`, and `validate` first checks the *schema* against its meta-schema, on every call.
   Profiled with py-spy under 10 concurrent chat sessions, that check was 61 % of the Rasa
   server's CPU. Here the validator is built once; responses are validated against the same
   schema and raise the same `ValidationError`, so behaviour is unchanged.
2. NLU result for the API. The REST channel answers only the bot's messages, so the API could
   not see what NLU understood (for metrics, the transcript and fallback analytics) without a
   second request per turn. When a message arrives through a collecting channel (REST), one
   extra entry `{"custom": {"crm_nlu": {"intent", "confidence"}}}` is added to the reply
   list; it has no text, so a client that does not know it shows nothing (docs/spine.md).

Remove both when Rasa is upgraded.
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


def _with_nlu_record(original: Any) -> Any:
    """Wrap `MessageProcessor.log_message` to add the parsed intent to a REST reply."""

    async def log_message(self: Any, message: Any, should_save_tracker: bool = True) -> Any:
        tracker = await original(self, message, should_save_tracker)
        channel = message.output_channel
        intent = (tracker.latest_message.intent or {}) if tracker.latest_message else {}
        if isinstance(getattr(channel, "messages", None), list) and intent.get("name"):
            record = {"intent": intent.get("name"), "confidence": intent.get("confidence")}
            channel.messages.append({"recipient_id": message.sender_id,
                                     "custom": {"crm_nlu": record}})  # fmt: skip
        return tracker

    log_message.__module__ = __name__
    return log_message


def _patch_actions(module: Any) -> None:
    module.RemoteAction._validate_action_result = _validate_action_result


def _patch_processor(module: Any) -> None:
    processor = module.MessageProcessor
    if getattr(processor.log_message, "__module__", "") != __name__:
        processor.log_message = _with_nlu_record(processor.log_message)


_TARGETS = {"rasa.core.actions.action": _patch_actions, "rasa.core.processor": _patch_processor}


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches the target module right after Python executes it.

    Lazy on purpose: importing Rasa costs seconds (TensorFlow), and this hook runs at the
    start of every Python process of the Rasa venv, including ones that never load Rasa.
    """

    def __init__(self) -> None:
        self.pending = {name for name in _TARGETS if name not in sys.modules}

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in self.pending:
            return None
        self.pending.discard(name)
        if not self.pending:
            sys.meta_path.remove(self)
        # Find the real spec without this finder in the way (it may still be on the path).
        spec = (
            importlib.util.find_spec(name) if self not in sys.meta_path else _find_past(self, name)
        )
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module
        patch = _TARGETS[name]

        def exec_and_patch(module: Any) -> None:
            exec_module(module)
            patch(module)

        spec.loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


def _find_past(finder: Any, name: str) -> Any:
    """`importlib.util.find_spec` with `finder` taken off the path for the call."""
    position = sys.meta_path.index(finder)
    sys.meta_path.remove(finder)
    try:
        return importlib.util.find_spec(name)
    finally:
        sys.meta_path.insert(position, finder)


def install() -> None:
    """Arrange for Rasa to be patched when (and if) it is imported."""
    for name, patch in _TARGETS.items():
        if name in sys.modules:
            patch(sys.modules[name])
    if not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        finder = _PatchOnImport()
        if finder.pending:
            sys.meta_path.insert(0, finder)
