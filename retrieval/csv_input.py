"""Reading the evaluation CSVs with errors that name the file, the row and the column."""

from __future__ import annotations

import csv
from pathlib import Path


class InputError(ValueError):
    """A user-supplied file is unusable; the message says which file and row."""


def read_rows(path: Path, required: list[str]) -> list[dict[str, str]]:
    """Read a UTF-8 CSV with a header and check the required columns.

    Raises:
        InputError: missing file, undecodable bytes, a missing column or an empty cell.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
            rows = []
            for row in reader:
                for col in required:
                    if not (row.get(col) or "").strip():
                        raise InputError(f"{path}, row {reader.line_num}: empty {col!r}")
                rows.append(row)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise InputError(f"{path}: malformed CSV ({exc})") from exc
    if not rows:
        raise InputError(f"{path}: no data rows")
    return rows
