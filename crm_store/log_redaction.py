"""Mask PII in every log record a process writes (API and action server).

Why the record factory and not only a handler filter: a filter on a logger does not see
records that propagate from its children, and uvicorn and rasa-sdk install their own
handlers after our code runs. Every record, whatever its logger and handler, is created by
`logging.getLogRecordFactory()`, so wrapping it masks each record once, at the source.
`RedactingFilter` is the same treatment as a standard filter, for logging configs that want
to attach it to a handler explicitly.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from crm_store.redaction import redact

_formatter = logging.Formatter()
_install_lock = threading.Lock()
_MARK = "_crm_redacting"


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask PII in the record's message, arguments, traceback and stack, in place.

    Arguments keep their types when they hold no PII (uvicorn's access formatter unpacks
    its tuple of arguments), and numbers are left alone so `%d` still formats. A traceback
    is formatted now and masked, and the live exception dropped: exception messages carry
    SQL parameters and the user's text.

    Returns:
        The same record.
    """
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    elif record.msg is not None and not isinstance(record.msg, int | float):
        record.msg = _masked(record.msg)
    record.args = _redact_args(record.args)
    _collapse_split_pii(record)
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact(record.exc_text or _formatter.formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def _collapse_split_pii(record: logging.LogRecord) -> None:
    """When PII only appears once the message is formatted (`"%s@%s"`), store it formatted."""
    if not record.args:
        return
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string is logging's own error to report
        return
    masked = redact(message)
    if masked != message:
        record.msg, record.args = masked, None


def _redact_args(args: Any) -> Any:
    if isinstance(args, tuple):
        return tuple(_masked(arg) for arg in args)
    if isinstance(args, dict):
        return {key: _masked(value) for key, value in args.items()}
    return args


def _masked(value: Any) -> Any:
    """The value itself when its text holds no PII, else its masked text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else str(value)
    masked = redact(text)
    return value if masked == text else masked


class RedactingFilter(logging.Filter):
    """A logging filter that masks PII in each record and lets it through."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; never drops it."""
        redact_record(record)
        return True


def install_log_redaction() -> None:
    """Make every log record of this process PII-free from now on (idempotent).

    Called by `channels.app.create_app` and on import of `bot.actions`, i.e. in the API and
    the action server processes.
    """
    with _install_lock:
        factory = logging.getLogRecordFactory()
        if getattr(factory, _MARK, False):
            return

        def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return redact_record(factory(*args, **kwargs))

        setattr(redacting_factory, _MARK, True)
        logging.setLogRecordFactory(redacting_factory)
