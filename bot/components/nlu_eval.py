"""Train an NLU-only model and parse a test set, inside `.venv-rasa` (driven by `crm nlu`).

Usage: `python -m components.nlu_eval SPEC.json` with cwd `bot/`. SPEC has `config`
(pipeline file), `train` (Rasa JSON training data), `texts` (test messages) and `out` (model
folder). Prints one JSON object on the last stdout line: `train_seconds`, `predictions`
([label, confidence] per text) and `parse_ms` (one warm in-process parse per text).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any


async def _parse_all(model: str, texts: list[str]) -> dict[str, Any]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    await agent.parse_message("warm up")  # first call builds lazy state
    predictions, timings = [], []
    for text in texts:
        start = time.perf_counter()
        parsed = await agent.parse_message(text)
        timings.append((time.perf_counter() - start) * 1000.0)
        intent = parsed.get("intent") or {}
        predictions.append([intent.get("name"), float(intent.get("confidence") or 0.0)])
    return {"predictions": predictions, "parse_ms": timings}


def main(spec_path: str) -> None:
    """Train on the spec's data, then parse every test text; print the JSON result."""
    from rasa.model_training import train_nlu

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    start = time.perf_counter()
    model = train_nlu(spec["config"], spec["train"], spec["out"], fixed_model_name="nlu-eval")
    train_seconds = time.perf_counter() - start
    if not model:
        raise SystemExit("rasa train nlu produced no model")
    print(f"trained in {train_seconds:.1f} s; parsing {len(spec['texts'])} texts", file=sys.stderr)
    result = asyncio.run(_parse_all(model, spec["texts"]))
    print(json.dumps({"train_seconds": train_seconds, **result}))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m components.nlu_eval SPEC.json")
    main(sys.argv[1])
