"""Rasa's Redis lock store, fixed for a replica that dies while it holds a conversation's lock.

Rasa 3.6's `RedisLockStore` gives every ticket the same fixed lifetime, waiting tickets
included. When a replica dies mid-turn its ticket stays in Redis until that lifetime ends, and
a turn of the same conversation that another replica takes meanwhile waits behind it. The
waiter's own ticket was issued a moment after the dead one, so it expires a moment after it;
when the waiter's next poll (once a second) falls after both expiries its ticket is gone,
`now_serving` is 0, and it waits until the caller gives up. Seen in
tests/integration/test_cluster.py: after one replica was killed, one conversation's next turn
hung for the API's whole 30 s timeout while the others went through in 19 s.

Here a live turn renews its own ticket, while it waits (at every poll) and while it holds the
lock (every third of the lifetime), so only tickets that nobody renews (a dead replica's)
expire. That also lets the lifetime be short (`TICKET_LOCK_LIFETIME=6` in the cluster and
compose files) without a slow turn losing its lock, so a conversation whose replica died
continues on another one after seconds, not Rasa's default minute. (The renewals run on
the replica's event loop, so a loop blocked for longer than the lifetime would let the next
turn in early; Rasa's synchronous work per turn, NLU and policies, takes tens to hundreds of
milliseconds, far below 6 s.) A waiter whose ticket was
lost anyway (Rasa's Redis store updates by read-modify-write, so two replicas writing at once
can drop a ticket) takes a new one instead of waiting for a number that will never be served.
The endpoints name this class as the lock store type
(`crm_lock_store.ReplicaSafeRedisLockStore`, `PYTHONPATH=bot`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class ReplicaSafeRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose tickets stay valid while their turn is alive (waiting or served)."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        """Take the same endpoint keys as Rasa's `type: redis` (url, port, db, password...)."""
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock for one turn; the ticket is released however it ends."""
        held = [self.issue_ticket(conversation_id, lock_lifetime)]
        keep_alive: asyncio.Task[None] | None = None
        try:
            lock = await self._wait_for_turn(
                conversation_id, held, lock_lifetime, wait_time_in_seconds
            )
            keep_alive = asyncio.create_task(
                self._keep_alive(conversation_id, held[0], lock_lifetime)
            )
            yield lock
        finally:
            if keep_alive is not None:
                keep_alive.cancel()
            self.cleanup(conversation_id, held[0])

    async def _keep_alive(self, conversation_id: str, ticket: int, lifetime: float) -> None:
        """Renew the served ticket until the turn ends (the caller cancels this task).

        A Redis error stops the renewals, not the turn: the ticket then lapses after its
        lifetime, which is exactly Rasa's own behaviour.
        """
        while True:
            await asyncio.sleep(lifetime / 3)
            try:
                self._renew(conversation_id, ticket, lifetime)
            except RedisError as exc:
                logger.warning(
                    "Could not renew the lock of conversation %s: %s", conversation_id, exc
                )
                return

    async def _wait_for_turn(
        self, conversation_id: str, held: list[int], lifetime: float, wait_s: float
    ) -> TicketLock:
        """Poll until `held[0]` is served, renewing it meanwhile (and replacing it if lost)."""
        while True:
            lock = self.get_lock(conversation_id)
            if lock is None or lock._ticket_for_ticket_number(held[0]) is None:
                logger.warning(
                    "Lock ticket %s of conversation %s was lost while waiting; taking a new one",
                    held[0], conversation_id,
                )  # fmt: skip
                held[0] = self.issue_ticket(conversation_id, lifetime)
                continue
            if not lock.is_locked(held[0]):
                return lock
            await asyncio.sleep(wait_s)
            self._renew(conversation_id, held[0], lifetime)

    def _renew(self, conversation_id: str, ticket: int, lifetime: float) -> None:
        """Push a live turn's expiry forward and drop the expired (dead) tickets."""
        lock = self.get_lock(conversation_id)
        if lock is None:
            return
        mine = lock._ticket_for_ticket_number(ticket)  # also drops the expired tickets
        if mine is not None:
            mine.expires = time.time() + lifetime
        self.save_lock(lock)
