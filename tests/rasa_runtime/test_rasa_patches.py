"""The Rasa start-up patch: installed lazily, and validation behaves as before."""

from __future__ import annotations

import subprocess
import textwrap

from crm_cli.rasa_model import BOT_DIR, RASA_PYTHON, rasa_env

CHECK = textwrap.dedent(
    """
    import sys
    assert "rasa" not in sys.modules, "the hook must not import Rasa eagerly"
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    assert RemoteAction._validate_action_result.__module__ == "rasa_patches"
    action = RemoteAction("action_x", None)
    ok = {"events": [{"event": "slot", "name": "a", "value": 1}], "responses": [{"text": "hi"}]}
    assert action._validate_action_result(ok) is True
    for bad in ({"events": [{"event": 5}]}, {"responses": "not a list"}):
        try:
            action._validate_action_result(bad)
        except ValidationError as exc:
            assert "Failed to validate Action server response" in exc.message
        else:
            raise AssertionError(f"accepted {bad}")
    import asyncio
    from types import SimpleNamespace
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.processor import MessageProcessor
    assert MessageProcessor.log_message.__module__ == "rasa_patches"

    class Processor:  # only what the wrapper touches: log_message's return value
        async def fetch(self, message, should_save_tracker=True):
            latest = SimpleNamespace(intent={"name": "greet", "confidence": 0.93})
            return SimpleNamespace(latest_message=latest)

    wrapped = MessageProcessor.log_message
    import rasa_patches
    fake = rasa_patches._with_nlu_record(Processor.fetch)
    collector = CollectingOutputChannel()
    asyncio.run(fake(Processor(), UserMessage("hi", collector, "web-1")))
    assert collector.messages == [{"recipient_id": "web-1",
        "custom": {"crm_nlu": {"intent": "greet", "confidence": 0.93}}}], collector.messages
    assert wrapped is MessageProcessor.log_message  # patched once, not twice
    print("OK")
    """
)


def test_patch_is_lazy_and_keeps_validation() -> None:
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", CHECK],
        cwd=BOT_DIR,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("OK")
