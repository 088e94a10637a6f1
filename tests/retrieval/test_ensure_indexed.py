"""`ensure_indexed`: the demo's start-up step indexes kb/ once, then only when it changed."""

from __future__ import annotations

from pathlib import Path

from retrieval.config import RetrievalSettings
from retrieval.sync import ensure_indexed


def _article(folder: Path, name: str, title: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(f"---\ntitle: {title}\n---\n{body}\n", encoding="utf-8")


def test_indexes_once_then_only_on_change(db_url: str, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    settings = RetrievalSettings().with_(index_path=tmp_path / "index")
    _article(kb, "a.md", "Reset your password", "Click Forgot password on the sign-in page.")
    first = ensure_indexed([kb], db_url, settings)
    assert first is not None and first.chunks_indexed == 1
    assert ensure_indexed([kb], db_url, settings) is None
    _article(kb, "b.md", "Refund policy", "Annual plans are refunded within 30 days.")
    second = ensure_indexed([kb], db_url, settings)
    assert second is not None and (second.added_sources, second.unchanged_sources) == (1, 1)


def test_missing_index_files_are_rebuilt(db_url: str, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    settings = RetrievalSettings().with_(index_path=tmp_path / "index")
    _article(kb, "a.md", "Reset your password", "Click Forgot password on the sign-in page.")
    ensure_indexed([kb], db_url, settings)
    (settings.index_dir / "manifest.json").unlink()
    again = ensure_indexed([kb], db_url, settings)
    assert again is not None and again.unchanged_sources == 1
    assert (settings.index_dir / "manifest.json").exists()
