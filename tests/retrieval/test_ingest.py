"""Ingestion: formats, metadata, bad files reported by name and row, de-duplication."""

from __future__ import annotations

from pathlib import Path

from retrieval.config import RetrievalSettings
from retrieval.ingest import IngestError, SourceDoc, deduplicate, discover, load_file
from retrieval.types import Audience

SETTINGS = RetrievalSettings()


def _load(path: Path) -> tuple[SourceDoc | None, list[IngestError]]:
    errors: list[IngestError] = []
    return load_file(path, SETTINGS, errors), errors


def test_markdown_front_matter_and_headings(tmp_path: Path) -> None:
    path = tmp_path / "reset.md"
    path.write_text(
        "---\ntitle: Password help\nurl: https://help.example/reset\nproduct: portal\n"
        "updated_at: 2026-01-02\naudience: internal\n---\n# Reset\nUse the link.\n## Expiry\n1 h.\n"
    )
    doc, errors = _load(path)
    assert not errors and doc is not None
    first = doc.chunks[0]
    assert first.title == "Password help" and first.url == "https://help.example/reset"
    assert first.audience is Audience.internal and first.product == "portal"
    assert first.updated_at is not None and first.updated_at.year == 2026
    assert [c.heading for c in doc.chunks] == ["Reset", "Reset > Expiry"]


def test_internal_folder_defaults_to_internal_audience(tmp_path: Path) -> None:
    (tmp_path / "internal").mkdir()
    path = tmp_path / "internal" / "pricing.txt"
    path.write_text("Discount rules\nUp to 15% without approval.")
    doc, _ = _load(path)
    assert doc is not None and doc.chunks[0].audience is Audience.internal
    assert doc.chunks[0].title == "Discount rules"


def test_csv_faq_reports_bad_rows_and_keeps_good_ones(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(
        "question,answer,audience,paraphrases\n"
        "How do I pay?,By card or invoice.,public,payment options|can I pay by card\n"
        "Empty answer?,,public,\n"
        "Where is my order?,Check the tracking link.,internal,\n"
    )
    doc, errors = _load(path)
    assert doc is not None and len(doc.chunks) == 2
    assert doc.chunks[0].questions == ["payment options", "can I pay by card"]
    assert doc.chunks[1].audience is Audience.internal
    assert len(errors) == 1 and errors[0].row == 3 and "faq.csv, row 3" in str(errors[0])


def test_csv_without_required_columns_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("q,a\nx,y\n")
    doc, errors = _load(path)
    assert doc is not None and doc.chunks == []
    assert "question" in errors[0].message and errors[0].source == str(path)


def test_binary_and_badly_encoded_files_are_named(tmp_path: Path) -> None:
    binary = tmp_path / "logo.md"
    binary.write_bytes(b"\x89PNG\x00\x00\x01")
    latin = tmp_path / "old.txt"
    latin.write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    for path, words in ((binary, "binary"), (latin, "encoding")):
        doc, errors = _load(path)
        assert doc is None and words in errors[0].message and errors[0].source == str(path)


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "w.txt"
    path.write_bytes("Windows note\nSaved as UTF-16.".encode("utf-16"))
    doc, errors = _load(path)
    assert not errors and doc is not None and "UTF-16" in doc.chunks[0].text


def test_discover_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.md").write_text("# hidden")
    (tmp_path / "a.md").write_text("# A\ntext")
    (tmp_path / "b.pdf").write_bytes(b"%PDF")
    assert [p.name for p in discover([tmp_path])] == ["a.md"]


def test_deduplicate_drops_repeated_content_and_names_both(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Same\nIdentical body text.")
    (tmp_path / "b.md").write_text("# Same\nIdentical   body text.")
    docs = [d for d in (_load(tmp_path / n)[0] for n in ("a.md", "b.md")) if d]
    notes = deduplicate(docs, known={})
    assert len(docs[0].chunks) == 1 and docs[1].chunks == []
    assert "b.md" in notes[0] and "a.md" in notes[0]
