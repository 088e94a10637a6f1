"""Deliver lines another API process stored: the cross-process half of the live push.

The relay pushes at once to sockets in its own process. With several API processes (workers
or replicas) the customer's socket may be open in another one; there the line waits in the
store (`delivered: false`), and this sweep, run by every API process, finds and pushes it.
One indexed query per interval, only for conversations with a socket open here.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from channels.handoff.delivery import deliver_pending
from channels.handoff.hub import ChatHub
from crm_store.db import session_scope
from crm_store.queries.handoffs import conversations_with_undelivered

logger = logging.getLogger(__name__)


def _waiting(url: str | None, conversation_ids: list[int]) -> list[int]:
    with session_scope(url) as session:
        return conversations_with_undelivered(session=session, conversation_ids=conversation_ids)


async def sweep_once(*, hub: ChatHub, url: str | None) -> int:
    """Push every waiting line to the sockets open here.

    Returns:
        How many lines were delivered.
    """
    online = hub.online_conversations()
    if not online:
        return 0
    delivered = 0
    for conversation_id in await run_in_threadpool(_waiting, url, online):
        delivered += await deliver_pending(hub=hub, url=url, conversation_id=conversation_id)
    return delivered


async def sweep_forever(*, hub: ChatHub, url: str | None, interval_s: float) -> None:
    """Run `sweep_once` every `interval_s` seconds until cancelled; errors are logged, not fatal."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await sweep_once(hub=hub, url=url)
        except Exception as exc:  # a database blip must not end pushes for good
            logger.warning("push sweep failed: %s", type(exc).__name__)
