"""Request ids in every log line, and an optional JSON format, for the API and action server.

One person's conversation crosses three processes (API, Rasa, action server). The API gives
each turn a request id (the client's `X-Request-ID` when it is sane, else a new one), sends it
to Rasa in the turn's metadata, and the actions put it back in context; every log record then
carries `request_id` and `conversation_id`, so `grep <id>` over the processes' logs follows
one turn. Messages are already masked for PII by `crm_store.log_redaction` before they get
here, since that wraps the record factory first.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from contextvars import ContextVar
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("crm_request_id", default=None)
CONVERSATION_ID: ContextVar[int | None] = ContextVar("crm_conversation_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_lock = threading.Lock()
_MARK = "_crm_log_context"


def request_id_from(header: str | None) -> str:
    """The client's request id when it is a plain token of 8-64 characters, else a new one.

    Why not trust any header: it lands in every log line, so it must not be able to forge
    log lines or carry PII.
    """
    if header and _SANE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def install_log_context() -> None:
    """Add `request_id` and `conversation_id` to every log record of this process (once)."""
    with _lock:
        factory = logging.getLogRecordFactory()
        if getattr(factory, _MARK, False):
            return

        def with_context(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = factory(*args, **kwargs)
            record.request_id = REQUEST_ID.get()
            record.conversation_id = CONVERSATION_ID.get()
            return record

        setattr(with_context, _MARK, True)
        logging.setLogRecordFactory(with_context)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, and a traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record; the message is formatted (and was masked) as usual."""
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "conversation_id": getattr(record, "conversation_id", None),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def use_json_logs() -> None:
    """Switch every handler this process has (root, uvicorn's, Sanic's) to JSON lines."""
    import time

    JsonFormatter.converter = time.gmtime
    formatter = JsonFormatter()
    root = logging.getLogger()
    loggers = [root] + [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            handler.setFormatter(formatter)
    if not root.handlers:  # our own loggers propagate here; without it Python prints bare text
        handler = logging.StreamHandler()
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(logging.INFO)  # the one line per turn and per action is INFO
