"""50 concurrent sessions x 20 turns through the API of the multi-replica cluster.

Starts `make cluster`'s topology (two Rasa replicas on PostgreSQL trackers and a Redis lock
store, the action server, two API workers, the rules worker) on loopback with databases of its
own, unless --api-url and --database-url point at a running one. The baseline, measured in the
same run, is one session at a time; the JSON reports turns/s, latency percentiles, errors and
`lost_turns` (turns sent minus user messages found in the transcripts). Every request stays on
127.0.0.1 and the run is bounded by turn count and a deadline.

    .venv/bin/python bench/load.py --sessions 50 --turns 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crm_cli.cluster import scratch_cluster  # noqa: E402
from crm_cli.loadgen import count_lost_turns, run_load  # noqa: E402


def measure(api_url: str, database_url: str, sessions: int, turns: int) -> dict[str, object]:
    """Warm-up, the one-session baseline, then the concurrent run; returns the JSON object."""
    asyncio.run(run_load(api_url, sessions=2, turns=10))  # models and caches loaded
    baseline = asyncio.run(run_load(api_url, sessions=1, turns=turns))
    count_lost_turns(baseline, database_url)
    print(f"baseline: {baseline.summary()}", file=sys.stderr)
    load = asyncio.run(run_load(api_url, sessions=sessions, turns=turns, deadline_s=900))
    count_lost_turns(load, database_url)
    result = load.summary()
    base = baseline.summary()
    return {
        "sessions": sessions,
        "turns_per_session": turns,
        **result,
        "baseline_1_session": base,
        "p95_vs_baseline": round(result["p95_ms"] / base["p95_ms"], 2) if base["p95_ms"] else None,
        "throughput_vs_baseline": round(result["turns_per_s"] / base["turns_per_s"], 2)
        if base["turns_per_s"]
        else None,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--api-url", help="A running cluster's API (else one is started).")
    parser.add_argument("--database-url", help="That cluster's CRM store, to count lost turns.")
    args = parser.parse_args()
    if args.api_url:
        if not args.database_url:
            parser.error("--database-url is needed with --api-url (to count lost turns)")
        result = measure(args.api_url, args.database_url, args.sessions, args.turns)
    else:
        print("starting a cluster on databases of its own…", file=sys.stderr)
        no_limits = {"CRM_CHAT_ADDRESS_LIMIT": "0", "CRM_CHAT_SESSION_LIMIT": "0"}
        with scratch_cluster("crm_load", api_env=no_limits) as cluster:
            result = measure(cluster.api_url, cluster.config.crm_url, args.sessions, args.turns)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
