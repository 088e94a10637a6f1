"""Read rows as the database driver returns them, and convert each column once.

The worker reads 100k events and the records they touch per drain. Through SQLAlchemy's
types, SQLite money became `Decimal` (then a float again for conditions) and timestamps were
parsed by a regular expression; here each column gets one small converter chosen from its
declared type, on both databases: SQLite hands back text and numbers, psycopg typed values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Float, Numeric, Table, type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType, TypeDecorator

Converter = Callable[[Any], Any] | None


def to_datetime(value: Any) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite stores naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_midnight(value: Any) -> datetime | None:
    """A stored date as midnight UTC, the way conditions compare dates with times."""
    if value is None:
        return None
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return to_datetime(value)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _to_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _to_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def to_json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def converter(column: Column[Any]) -> Converter:
    """The converter for one column's raw values; None when they are usable as they are."""
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, DateTime):
        return to_datetime
    if isinstance(kind, Date):
        return to_midnight
    if isinstance(kind, Numeric | Float):
        return _to_float
    if isinstance(kind, Boolean):
        return _to_bool
    if isinstance(kind, JSON):
        return to_json_value
    return None  # integers, text, and enums stored as their text


def raw_columns(table: Table, names: Sequence[str] | None = None) -> list[ColumnElement[Any]]:
    """The columns, selected without SQLAlchemy's result processing (same names)."""
    columns = [table.c[name] for name in names] if names else list(table.columns)
    return [type_coerce(column, NullType()).label(column.key) for column in columns]


def converters(
    table: Table, names: Sequence[str] | None = None
) -> list[tuple[int, Callable[[Any], Any]]]:
    """(position, converter) for the columns of `raw_columns(table, names)` that need one."""
    columns = [table.c[name] for name in names] if names else list(table.columns)
    found = [(i, converter(column)) for i, column in enumerate(columns)]
    return [(i, fn) for i, fn in found if fn is not None]
