"""The multi-replica topology (`make cluster`) under load and faults, on real processes.

Two Rasa replicas share PostgreSQL trackers and a Redis lock store; the API (two workers)
spreads turns over them. The tests hold conversations across both replicas, then inject the
faults issue 8 lists: database connections terminated mid-load, the action server killed and
restarted, and finally one Rasa replica killed mid-load. Every run is bounded and loopback
only; "lost" means a user message missing from the stored transcript.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import psycopg
import pytest
from sqlalchemy import select

from crm_cli.cluster import Cluster, scratch_cluster
from crm_cli.loadgen import count_lost_turns, run_load
from crm_store.db import session_scope
from crm_store.demo import DEMO_CREDENTIALS
from crm_store.models import Conversation

pytestmark = pytest.mark.integration
ORDER = DEMO_CREDENTIALS.customer_order_number
EMAIL = DEMO_CREDENTIALS.customer_email


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = ExitStack()
    try:
        built = running.enter_context(scratch_cluster(
            "crm_it_cluster", run_dir=tmp_path_factory.mktemp("cluster"), redis_lock_db=5,
            redis_limits_db=6, api_env={"CRM_CHAT_ADDRESS_LIMIT": "0"},
        ))  # fmt: skip
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL NOT REACHABLE: {exc}")
    with running:
        yield built


def _webhook(rasa_url: str, sender: str, text: str) -> list[str]:
    """One turn sent straight to one replica, as the API would send it."""
    body = {"sender": sender, "message": text, "metadata": {"crm": {"role": "customer"}}}
    reply = httpx.post(f"{rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
    reply.raise_for_status()
    return [m["text"] for m in reply.json() if m.get("text")]  # not the crm_nlu record


def _tracker_events(rasa_url: str, sender: str) -> list[dict[str, object]]:
    reply = httpx.get(f"{rasa_url}/conversations/{sender}/tracker", timeout=30)
    reply.raise_for_status()
    return reply.json()["events"]


def test_health_reports_both_replicas(cluster: Cluster) -> None:
    health = httpx.get(f"{cluster.api_url}/v1/health", timeout=10).json()
    assert health["status"] == "ok", health
    assert health["components"]["rasa"]["detail"] == "2 of 2 replicas up"
    assert health["components"]["redis"]["status"] == "ok"


def test_a_form_continues_on_the_other_replica(cluster: Cluster) -> None:
    first, second = cluster.rasa_urls
    sender = f"web-{uuid.uuid4().hex}"
    assert _webhook(first, sender, f"where is my order {ORDER}?") == [
        "What email address did you use?"
    ]
    answer = " ".join(_webhook(second, sender, EMAIL))
    assert ORDER in answer and "is " in answer
    assert _tracker_events(first, sender) == _tracker_events(second, sender)


def test_concurrent_turns_of_one_conversation_are_serialised(cluster: Cluster) -> None:
    """A double-submitting client: the API keeps the conversation on one replica, whose lock
    store serialises the turns, so every message is in the one shared history."""
    session_id = f"conc-{uuid.uuid4().hex[:10]}"
    texts = ["hi", "thanks", "hello", "cheers"]

    async def send_all() -> list[int]:
        async with httpx.AsyncClient(base_url=cluster.api_url, timeout=120) as client:
            replies = await asyncio.gather(*(
                client.post("/v1/chat/web", json={"session_id": session_id, "text": text})
                for text in texts
            ))  # fmt: skip
        return [reply.status_code for reply in replies]

    assert asyncio.run(send_all()) == [200] * len(texts)
    with session_scope(cluster.config.crm_url) as session:
        sender = session.scalars(
            select(Conversation.rasa_sender_id).where(Conversation.external_id == session_id)
        ).one()
    for replica in cluster.rasa_urls:  # either replica reads the same history
        events = _tracker_events(replica, f"web-{sender}")
        users = [i for i, e in enumerate(events) if e["event"] == "user"]
        assert sorted(events[i]["text"] for i in users) == sorted(texts)
        # One turn finishes (bot reply, back to listening) before the next starts.
        for this, following in zip(users, users[1:] + [len(events)], strict=True):
            kinds = [e["event"] for e in events[this:following]]
            assert "bot" in kinds and events[following - 1].get("name") == "action_listen", kinds


def test_database_connections_terminated_mid_load_lose_nothing(cluster: Cluster) -> None:
    config = cluster.config

    async def terminate() -> None:
        for _ in range(3):
            await asyncio.sleep(2.0)
            with psycopg.connect(f"host={config.pg_host} port={config.pg_port} "
                                 f"user={config.pg_user} dbname=postgres",
                                 autocommit=True) as admin:  # fmt: skip
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname IN (%s, %s) AND pid <> pg_backend_pid()",
                    (config.crm_db, config.rasa_db),
                )

    report = asyncio.run(run_load(cluster.api_url, sessions=6, turns=8, during=terminate))
    assert count_lost_turns(report, config.crm_url) == 0
    summary = report.summary()
    assert set(summary["by_status"]) <= {"200", "503"}, summary
    after = asyncio.run(run_load(cluster.api_url, sessions=2, turns=3))
    assert after.summary()["errors"] == 0, after.summary()


def test_action_server_killed_then_restarted(cluster: Cluster) -> None:
    actions = cluster.process("actions")
    with httpx.Client(base_url=cluster.api_url, timeout=60) as client:
        turn = {"session_id": f"fault-{uuid.uuid4().hex[:8]}", "text": f"where is order {ORDER}?"}
        actions.kill()
        down = client.post("/v1/chat/web", json=turn)
        assert down.status_code == 503
        assert "try again" in down.json()["detail"].lower()
        actions.start()
        actions.wait_ready()
        again = client.post("/v1/chat/web", json=turn)  # the person asks again
        assert again.status_code == 200, again.text
        back = client.post("/v1/chat/web", json={**turn, "text": EMAIL})
        assert back.status_code == 200, back.text
        assert ORDER in " ".join(m["text"] for m in back.json()["messages"])
    report = asyncio.run(run_load(cluster.api_url, sessions=2, turns=3))
    assert report.summary()["errors"] == 0


def test_a_replica_killed_mid_load(cluster: Cluster) -> None:
    """Last: it leaves one replica down."""
    victim = cluster.rasa_processes[0]

    async def kill_one() -> None:
        await asyncio.sleep(3.0)
        victim.kill()

    report = asyncio.run(run_load(cluster.api_url, sessions=8, turns=6, during=kill_one))
    summary = report.summary()
    statuses: dict[str, list[int]] = {}
    for turn in report.turns:
        statuses.setdefault(turn.session_id, []).append(turn.status)
    assert count_lost_turns(report, cluster.config.crm_url) == 0
    assert set(summary["by_status"]) <= {"200", "503"}, summary
    # Only the turn in flight on the victim fails; the next one fails over (waiting at most
    # the dead replica's lock lifetime, bot/crm_lock_store.py).
    assert all(codes.count(503) <= 1 for codes in statuses.values()), (summary, statuses)
    after = asyncio.run(run_load(cluster.api_url, sessions=3, turns=3))
    assert after.summary()["errors"] == 0, after.summary()
    health = httpx.get(f"{cluster.api_url}/v1/health", timeout=10).json()
    assert health["status"] == "degraded"
    assert health["components"]["rasa"]["detail"] == "1 of 2 replicas up"
