"""Which web-chat sockets are open, by conversation, in this API process.

One hub per app (`app.state.chat_hub`). A message for a customer is pushed to every socket of
their conversation (two tabs both show it). The hub is in-process: with several API replicas,
a reply relayed by one replica reaches sockets on that replica only; the others show it from
the store when the customer reconnects or sends the next message (docs/handoff.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from starlette.websockets import WebSocket

logger = logging.getLogger(__name__)


class ChatHub:
    """Open sockets per conversation, and a lock per conversation for delivering to them."""

    def __init__(self) -> None:
        self._sockets: defaultdict[int, set[WebSocket]] = defaultdict(set)
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._socket_locks: dict[WebSocket, asyncio.Lock] = {}

    def attach(self, conversation_id: int, socket: WebSocket) -> None:
        """Register a customer's socket for pushes (idempotent)."""
        self._sockets[conversation_id].add(socket)

    def detach(self, socket: WebSocket) -> None:
        """Forget a closed socket, whatever conversations it was attached to."""
        self._socket_locks.pop(socket, None)
        for conversation_id in [c for c, s in self._sockets.items() if socket in s]:
            self._sockets[conversation_id].discard(socket)
            if not self._sockets[conversation_id]:
                del self._sockets[conversation_id]
                self._locks.pop(conversation_id, None)

    def is_online(self, conversation_id: int) -> bool:
        """True when at least one socket of the conversation is open here."""
        return bool(self._sockets.get(conversation_id))

    def online_conversations(self) -> list[int]:
        """The conversations with at least one socket open here."""
        return [c for c, sockets in self._sockets.items() if sockets]

    def lock(self, conversation_id: int) -> asyncio.Lock:
        """Serialises deliveries to one conversation, so no message is pushed twice."""
        return self._locks[conversation_id]

    def socket_lock(self, socket: WebSocket) -> asyncio.Lock:
        """One writer per socket: a push and a turn's answer never interleave on the wire."""
        return self._socket_locks.setdefault(socket, asyncio.Lock())

    async def send(self, conversation_id: int, frame: str) -> int:
        """Send a JSON frame to every open socket of the conversation.

        Returns:
            How many sockets took it; a socket that fails is dropped from the hub.
        """
        reached = 0
        for socket in list(self._sockets.get(conversation_id, ())):
            try:
                async with self.socket_lock(socket):
                    await socket.send_text(frame)
                reached += 1
            except Exception:  # closed mid-send: the customer sees it on reconnect
                logger.info("dropping a closed chat socket of conversation %s", conversation_id)
                self.detach(socket)
        return reached
