"""Test files need unique names: the test folders are not packages (a package `tests/retrieval`
once shadowed the real `retrieval`), so pytest imports each file by its basename, and two files
with the same name stop the whole run at collection."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_every_test_file_name_is_unique() -> None:
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert not [name for name, count in names.items() if count > 1]
