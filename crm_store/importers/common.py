"""What both importers share: the report, format errors, batching and id look-ups."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from crm_store.errors import InvalidInputError
from crm_store.models import Role, User

BATCH_SIZE = 5_000
# progress(stage, done, total): e.g. ("order lines", 20_000, 397_924).
ProgressFn = Callable[[str, int, int], None]
T = TypeVar("T")


class ImportFormatError(InvalidInputError):
    """The file is missing, unreadable, or lacks required columns."""


@dataclass
class ImportReport:
    """What an import did; `skipped` maps a reason to the number of rows it covers."""

    source: str
    rows_read: int = 0
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def rows_skipped(self) -> int:
        """Rows not imported, all reasons together."""
        return sum(self.skipped.values())

    def lines(self) -> list[str]:
        """A short human-readable summary, one fact per line."""

        def fmt(counts: Counter[str]) -> str:
            return ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v) or "none"

        out = [
            f"{self.source}: read {self.rows_read} rows in {self.seconds:.1f}s",
            f"created: {fmt(self.created)}",
            f"updated: {fmt(self.updated)}",
            f"skipped: {self.rows_skipped} ({fmt(self.skipped)})",
        ]
        if self.notes:
            out.append(f"notes: {fmt(self.notes)}")
        return out


class Stopwatch:
    """Times an import into its report."""

    def __init__(self, report: ImportReport) -> None:
        self.report, self.start = report, time.perf_counter()

    def stop(self) -> ImportReport:
        self.report.seconds = time.perf_counter() - self.start
        return self.report


def check_file(path: str | Path) -> Path:
    """The path, or ImportFormatError when it is not a readable file."""
    file = Path(path)
    if not file.is_file():
        raise ImportFormatError(f"file not found: {file}")
    return file


def require_columns(found: Iterable[str], required: Iterable[str], path: Path) -> None:
    """Refuse a file whose header lacks any of the required columns."""
    missing = sorted(set(required) - {c.strip() for c in found})
    if missing:
        raise ImportFormatError(f"{path.name}: missing column(s) {', '.join(missing)}")


def batched(items: Sequence[T], size: int = BATCH_SIZE) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def id_map(session: Session, key: Any, id_col: Any, where: ColumnElement[bool]) -> dict[Any, int]:
    """{key: id} for the rows matching `where` (one query; fine for tens of thousands)."""
    return dict(session.execute(select(key, id_col).where(where)).tuples().all())


def ids_for(session: Session, key: Any, id_col: Any, keys: Sequence[Any]) -> dict[Any, int]:
    """{key: id} for the given keys, queried in chunks (bounded IN lists)."""
    found: dict[Any, int] = {}
    for chunk in batched(list(keys), 5_000):
        found.update(id_map(session, key, id_col, key.in_(chunk)))
    return found


def rep_ids(session: Session) -> list[int]:
    """Active reps' ids in a stable order, for round-robin ownership of new accounts."""
    stmt = select(User.id).where(User.role == Role.rep, User.is_active.is_(True))
    return list(session.scalars(stmt.order_by(User.id)))


def report_progress(progress: ProgressFn | None, stage: str, done: int, total: int) -> None:
    """Call the progress callback if there is one."""
    if progress is not None:
        progress(stage, done, total)
