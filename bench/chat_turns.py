"""Chat turns through the full stack: N concurrent web sessions, each turn reading the CRM.

Starts its own stack (Rasa, action server, API) on loopback against a fresh seeded SQLite
database unless --api-url is given. Every request stays on 127.0.0.1 and the run is bounded in
turns and seconds. The baseline, measured in the same run, is the same turn with one session
at a time, so the JSON shows what concurrency costs as a ratio rather than against a constant.

`--think-ms` is the pause between a session's turns. 0 (the default) is a closed loop that
measures saturation; people chatting pause for seconds, which `--think-ms 1000` approximates.

    .venv/bin/python bench/chat_turns.py --sessions 10 --turns 20 [--think-ms 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from crm_cli import rasa_model, stack
from crm_cli.demo_run import prepare_database
from crm_store.demo import DEMO_CREDENTIALS


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _turn_text() -> str:
    creds = DEMO_CREDENTIALS
    return f"where is my order {creds.customer_order}? my email is {creds.customer_email}"


async def _session(
    client: httpx.AsyncClient,
    name: str,
    turns: int,
    deadline: float,
    think_s: float,
    out: list[float],
) -> int:
    errors = 0
    jitter = random.Random(name)
    for i in range(turns):
        if time.monotonic() > deadline:
            break
        if i and think_s:
            # Uniform jitter (±50 %) so sessions do not fire in lock-step bursts.
            await asyncio.sleep(think_s * jitter.uniform(0.5, 1.5))
        started = time.perf_counter()
        response = await client.post(
            "/v1/chat/web", json={"session_id": f"{name}-{i}", "text": _turn_text()}
        )
        out.append((time.perf_counter() - started) * 1000)
        ok = response.status_code == 200 and response.json()["messages"]
        errors += 0 if ok else 1
    return errors


async def _run(
    api_url: str, sessions: int, turns: int, max_seconds: float, think_s: float = 0.0
) -> dict[str, float]:
    latencies: list[float] = []
    deadline = time.monotonic() + max_seconds
    limits = httpx.Limits(max_connections=sessions)
    async with httpx.AsyncClient(base_url=api_url, timeout=30.0, limits=limits) as client:
        started = time.perf_counter()
        errors = await asyncio.gather(
            *(
                _session(client, f"bench{s}", turns, deadline, think_s, latencies)
                for s in range(sessions)
            )
        )
        elapsed = time.perf_counter() - started
    return {
        "sessions": sessions,
        "think_ms": round(think_s * 1000),
        "turns": len(latencies),
        "errors": sum(errors),
        "turns_per_s": round(len(latencies) / elapsed, 2),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(_percentile(latencies, 0.95), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
    }


@contextmanager
def _own_stack():
    """A throw-away stack on a fresh seeded SQLite file."""
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'crm.sqlite3'}"
        print("preparing database and model…", file=sys.stderr)
        prepare_database(url)
        model = rasa_model.ensure_model(quiet=True)
        ports = [stack.free_port() for _ in range(3)]
        rasa_url, action_url = (f"http://127.0.0.1:{p}" for p in ports[:2])
        log_dir = Path(tmp) / "logs"
        # Every simulated visitor comes from 127.0.0.1: the per-address chat limit
        # (docs/privacy.md) would measure itself, so the bench's own API runs without it.
        os.environ.setdefault("CRM_CHAT_ADDRESS_LIMIT", "0")
        processes = [
            stack.action_server(ports[1], url, log_dir),
            stack.rasa_server(model, ports[0], action_url, log_dir),
            stack.api_server(
                ports[2], rasa_url=rasa_url, action_url=action_url, database_url=url,
                log_dir=log_dir,
            ),
        ]  # fmt: skip
        print("starting processes…", file=sys.stderr)
        stack.start_all(processes)
        try:
            yield f"http://127.0.0.1:{ports[2]}"
        finally:
            stack.stop_all(processes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--turns", type=int, default=20, help="turns per session")
    parser.add_argument("--think-ms", type=float, default=0.0, help="pause between turns")
    parser.add_argument("--max-seconds", type=float, default=180.0)
    parser.add_argument("--api-url", help="use a running API instead of starting one")
    args = parser.parse_args()

    def measure(api_url: str) -> dict[str, object]:
        asyncio.run(_run(api_url, 2, 3, 30.0))  # warm-up: model caches, DB pools
        print("baseline: 1 session…", file=sys.stderr)
        baseline = asyncio.run(_run(api_url, 1, args.turns, args.max_seconds))
        print(f"{args.sessions} concurrent sessions…", file=sys.stderr)
        think = args.think_ms / 1000
        loaded = asyncio.run(_run(api_url, args.sessions, args.turns, args.max_seconds, think))
        return {
            **loaded,
            "baseline_1_session": baseline,
            "p95_ratio_vs_baseline": round(loaded["p95_ms"] / baseline["p95_ms"], 2),
            "throughput_ratio_vs_baseline": round(
                loaded["turns_per_s"] / baseline["turns_per_s"], 2
            ),
        }

    if args.api_url:
        result = measure(args.api_url)
    else:
        with _own_stack() as api_url:
            result = measure(api_url)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
