"""Lock store checks that must run inside `.venv-rasa`, against the real Redis (db 7).

`test_crm_lock_store.py` runs this file with the Rasa venv's Python (cwd `bot/`,
`PYTHONPATH=bot`) and asserts on the JSON it prints: one entry per check with `ok` and a
`detail`. Each check uses its own alphanumeric key prefix, so runs never share a lock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable

from crm_lock_store import ReplicaSafeRedisLockStore
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import ConnectionError as RedisConnectionError

REDIS = {"url": "127.0.0.1", "port": 6379, "db": 7}
LIFETIME = 1.0  # seconds: a "dead" ticket and a waiter issued right after it
POLL = 0.4  # polls at ~0.4, 0.8, 1.2 s: after both tickets' expiries, never between them


def _config() -> EndpointConfig:
    prefix = "crmtest" + uuid.uuid4().hex[:8]
    return EndpointConfig(type="crm_lock_store.ReplicaSafeRedisLockStore", key_prefix=prefix,
                          **REDIS)  # fmt: skip


def _upstream(config: EndpointConfig) -> RedisLockStore:
    return RedisLockStore(host=config.url, **config.kwargs)


async def _turn_after_dead_ticket(store: RedisLockStore) -> float:
    """A replica died holding the lock (its ticket is never released); time until served."""
    store.issue_ticket("web-1", LIFETIME)  # the dead replica's turn
    started = time.monotonic()
    async with store.lock("web-1", lock_lifetime=LIFETIME, wait_time_in_seconds=POLL):
        return time.monotonic() - started


async def check_created_from_endpoints() -> str:
    store = LockStore.create(_config())
    assert isinstance(store, ReplicaSafeRedisLockStore), type(store)
    assert store.key_prefix.startswith("crmtest"), store.key_prefix
    return "LockStore.create builds the class from the endpoint's type"


async def check_upstream_waits_forever() -> str:
    """The bug this class exists for: Rasa's own store never serves the waiter."""
    try:
        await asyncio.wait_for(_turn_after_dead_ticket(_upstream(_config())), timeout=4 * LIFETIME)
    except asyncio.TimeoutError:  # noqa: UP041 (Python 3.10: not the builtin yet)
        return "RedisLockStore: the waiter was still waiting after 4 lifetimes"
    raise AssertionError("RedisLockStore served the waiter: the bug is gone, drop the class?")


async def check_waiter_served_after_dead_ticket() -> str:
    waited = await asyncio.wait_for(
        _turn_after_dead_ticket(ReplicaSafeRedisLockStore(_config())), timeout=4 * LIFETIME
    )
    assert LIFETIME * 0.9 <= waited <= LIFETIME + 3 * POLL, waited
    return f"served after {waited:.2f} s (the dead ticket's lifetime is {LIFETIME} s)"


async def check_turns_are_serialised() -> str:
    store = ReplicaSafeRedisLockStore(_config())
    order: list[str] = []

    async def turn(name: str, hold_s: float) -> None:
        async with store.lock("web-2", lock_lifetime=10, wait_time_in_seconds=0.05):
            order.append(f"{name} in")
            await asyncio.sleep(hold_s)
            order.append(f"{name} out")

    first = asyncio.create_task(turn("first", 0.5))
    await asyncio.sleep(0.05)
    await asyncio.gather(first, turn("second", 0.0))
    assert order == ["first in", "first out", "second in", "second out"], order
    assert store.get_lock("web-2") is None, "the lock outlived its last turn"
    return "the second turn waited for the first; the lock was deleted after both"


async def check_lost_ticket_is_replaced() -> str:
    """Another replica's read-modify-write dropped the waiter's ticket: it takes a new one."""
    store = ReplicaSafeRedisLockStore(_config())
    holder = store.issue_ticket("web-3", 10)

    async def drop_waiter_then_release() -> None:
        await asyncio.sleep(0.2)
        lock = store.get_lock("web-3")
        assert lock is not None and len(lock.tickets) == 2, lock
        lock.tickets.pop()  # the waiter's ticket, lost
        store.save_lock(lock)
        await asyncio.sleep(0.2)
        store.cleanup("web-3", holder)

    async def waiter() -> None:
        async with store.lock("web-3", lock_lifetime=10, wait_time_in_seconds=0.05):
            pass

    await asyncio.wait_for(asyncio.gather(drop_waiter_then_release(), waiter()), timeout=5)
    assert store.get_lock("web-3") is None
    return "the waiter re-queued and was served after the holder released"


async def check_long_turn_keeps_its_lock() -> str:
    """A turn that runs past the lifetime still holds the lock: the next one waits."""
    store = ReplicaSafeRedisLockStore(_config())
    order: list[str] = []

    async def turn(name: str, hold_s: float) -> None:
        async with store.lock("web-4", lock_lifetime=LIFETIME, wait_time_in_seconds=0.05):
            order.append(f"{name} in")
            await asyncio.sleep(hold_s)
            order.append(f"{name} out")

    first = asyncio.create_task(turn("first", 3 * LIFETIME))
    await asyncio.sleep(0.1)
    await asyncio.wait_for(asyncio.gather(first, turn("second", 0.0)), timeout=6 * LIFETIME)
    assert order == ["first in", "first out", "second in", "second out"], order
    return f"a {3 * LIFETIME:.0f} s turn kept a {LIFETIME:.0f} s lock to the end"


async def check_renewal_failure_does_not_fail_the_turn() -> str:
    """Redis refusing a renewal mid-turn stops the renewals; the turn itself finishes."""
    store = ReplicaSafeRedisLockStore(_config())
    calls: list[str] = []

    def refuse(*_: object) -> None:
        calls.append("renew")
        raise RedisConnectionError("Redis went away")

    store._renew = refuse  # type: ignore[method-assign]
    warnings: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: warnings.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("crm_lock_store").addHandler(handler)
    async with store.lock("web-5", lock_lifetime=0.3, wait_time_in_seconds=0.05):
        await asyncio.sleep(0.5)  # past the first renewal (at 0.1 s)
    assert calls == ["renew"], calls  # tried once, then stopped
    assert store.get_lock("web-5") is None
    assert any("Could not renew" in w for w in warnings), warnings  # said, not swallowed
    return "one failed renewal (logged), then the turn ended normally and released its lock"


CHECKS: dict[str, Callable[[], Awaitable[str]]] = {
    "created_from_endpoints": check_created_from_endpoints,
    "upstream_waits_forever": check_upstream_waits_forever,
    "waiter_served_after_dead_ticket": check_waiter_served_after_dead_ticket,
    "turns_are_serialised": check_turns_are_serialised,
    "lost_ticket_is_replaced": check_lost_ticket_is_replaced,
    "long_turn_keeps_its_lock": check_long_turn_keeps_its_lock,
    "renewal_failure_does_not_fail_the_turn": check_renewal_failure_does_not_fail_the_turn,
}


def main() -> None:
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = {"ok": True, "detail": asyncio.run(check())}
        except Exception:  # every check reports, whatever failed
            results[name] = {"ok": False, "detail": traceback.format_exc()[-2000:]}
    print(json.dumps(results))
    sys.exit(0)


if __name__ == "__main__":
    main()
