"""How fast does an agent's reply reach the customer's open chat socket?

Starts two API processes (uvicorn, as two workers would be) on one fresh, seeded database;
Rasa is not needed. For each of N handoffs: a customer socket is open on process B, and the
agent's reply is posted (`POST /v1/handoffs/{id}/reply`, which calls the relay) either to B
(same process: the relay pushes at once) or to A (another process: B's push sweep finds it,
`CRM_PUSH_SWEEP_S`). Timed: from sending the POST to the push frame arriving at the socket.

    .venv/bin/python bench/handoff_push.py [--n 30] [--sweep-s 1.0] [--database-url URL]

Prints one JSON object (last line of stdout).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

# bench/predict.py is named like the package; keep this folder off the import path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import httpx  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from crm_cli import stack  # noqa: E402
from crm_store import db, migrate  # noqa: E402
from crm_store.demo import DEMO_CREDENTIALS, seed  # noqa: E402
from crm_store.queries.conversations import append_message, get_or_create_conversation  # noqa: E402
from crm_store.queries.handoffs import open_handoff  # noqa: E402

AGENT = {"Authorization": f"Bearer {DEMO_CREDENTIALS.agent_token}"}


def _new_handoff(url: str) -> tuple[str, int]:
    sid = uuid.uuid4().hex
    with db.session_scope(url) as session:
        conv = get_or_create_conversation(session=session, channel="web", external_id=sid)
        append_message(session=session, conversation_id=conv.id, sender="user", text="help")
        return sid, open_handoff(
            session=session, conversation_id=conv.id, reason="customer_request"
        ).id


def _one(url: str, customer_api: str, agent_api: str, claim: bool) -> float:
    sid, handoff_id = _new_handoff(url)
    with httpx.Client(base_url=agent_api, timeout=30) as api:
        if claim:  # claim first so the timed push carries the reply alone
            api.post(f"/v1/handoffs/{handoff_id}/claim", headers=AGENT).raise_for_status()
        ws_url = customer_api.replace("http://", "ws://") + f"/v1/chat/web/ws?session_id={sid}"
        with connect(ws_url) as ws:
            if claim:
                ws.recv(timeout=10)  # the "has joined" line, pushed on connect
            start = time.perf_counter()
            api.post(f"/v1/handoffs/{handoff_id}/reply", headers=AGENT, json={"text": "hi"})
            while "hi" not in [m["text"] for m in json.loads(ws.recv(timeout=10))["messages"]]:
                pass
            return (time.perf_counter() - start) * 1000


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "max_ms": round(ordered[-1], 1),
    }


def main() -> None:
    """Run the measurement and print the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--sweep-s", type=float, default=1.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-handoff-"))
    url = args.database_url or f"sqlite:///{workdir / 'crm.sqlite3'}"
    migrate.upgrade(url)
    with db.session_scope(url) as session:
        seed(session)
    down = f"http://127.0.0.1:{stack.free_port()}"
    env = {"CRM_PUSH_SWEEP_S": str(args.sweep_s)}
    ports = [stack.free_port(), stack.free_port()]
    apis = [
        stack.api_server(p, rasa_url=down, action_url=down, database_url=url,
                         log_dir=workdir, extra_env=env)
        for p in ports
    ]  # fmt: skip
    stack.start_all(apis)
    try:
        a, b = (f"http://127.0.0.1:{p}" for p in ports)
        same = [_one(url, b, b, claim=True) for _ in range(args.n)]
        cross = [_one(url, b, a, claim=True) for _ in range(args.n)]
    finally:
        stack.stop_all(apis)
    backend = "postgresql" if url.startswith("postgres") else "sqlite"
    print(json.dumps({
        "backend": backend, "n": args.n, "sweep_s": args.sweep_s,
        "same_process": _summary(same), "other_process": _summary(cross),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
