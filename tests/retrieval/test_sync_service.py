"""Indexing into the CRM store (SQLite and PostgreSQL) and answering through the service."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm_store import db
from crm_store.models import KnowledgeArticle, KnowledgeChunk
from retrieval import service
from retrieval.config import RetrievalSettings
from retrieval.knowledge import KnowledgeIndex
from retrieval.service import KnowledgeService, open_index
from retrieval.sync import SyncReport, sync
from retrieval.types import Audience


def _write_docs(root: Path) -> None:
    (root / "internal").mkdir(parents=True)
    (root / "reset.md").write_text(
        "# Reset your password\nOpen Settings, choose Security and click Reset password. "
        "We email you a link that is valid for one hour.\n"
    )
    (root / "invoices.md").write_text(
        "# Download an invoice\nInvoices are under Billing > History; click the PDF icon.\n"
    )
    (root / "internal" / "discounts.md").write_text(
        "# Discount approval\nSales reps may give up to 15% discount; above that the sales "
        "manager approves it in the deal record.\n"
    )
    (root / "broken.txt").write_bytes(b"\xff\xfe\x00\x00binary\x00junk")


def _sync(
    db_url: str, settings: RetrievalSettings, paths: list[Path], crm: bool = False
) -> tuple[KnowledgeIndex, SyncReport]:
    with db.session_scope(db_url) as session:
        index = open_index(session, settings)
        report = sync(index, session, paths, include_crm=crm)
    index.save(settings.index_dir)
    return index, report


def _ids_by_source(db_url: str) -> dict[str, set[int]]:
    with db.session_scope(db_url) as session:
        rows = session.execute(select(KnowledgeChunk.source, KnowledgeChunk.id)).all()
    out: dict[str, set[int]] = {}
    for source, chunk_id in rows:
        out.setdefault(Path(source).name, set()).add(chunk_id)
    return out


@pytest.fixture
def kb_settings(settings: RetrievalSettings, tmp_path: Path) -> RetrievalSettings:
    return settings.with_(index_path=tmp_path / "index")


def test_incremental_sync_replaces_and_deletes_only_what_changed(
    db_url: str, kb_settings: RetrievalSettings, tmp_path: Path
) -> None:
    docs = tmp_path / "kb"
    _write_docs(docs)
    index, report = _sync(db_url, kb_settings, [docs])
    assert report.added_sources == 3 and len(report.errors) == 1
    assert "broken.txt" in str(report.errors[0])
    before = _ids_by_source(db_url)

    (docs / "reset.md").write_text("# Reset your password\nAsk the workspace owner to reset it.\n")
    index, report = _sync(db_url, kb_settings, [docs])
    after = _ids_by_source(db_url)
    assert (report.replaced_sources, report.unchanged_sources) == (1, 2)
    assert after["invoices.md"] == before["invoices.md"]
    # SQLite may reuse a deleted row id; what matters is that the new text is what is indexed.
    assert [index.chunks[i].text for i in after["reset.md"]] == [
        "Ask the workspace owner to reset it."
    ]
    assert set(index.bodies.ids()) == set().union(*after.values())

    (docs / "invoices.md").unlink()
    index, report = _sync(db_url, kb_settings, [docs])
    assert report.removed_sources == 1 and "invoices.md" not in _ids_by_source(db_url)
    assert "invoices.md" not in {Path(c.source).name for c in index.chunks.values()}


def test_crm_articles_are_indexed_and_missing_index_is_rebuilt(
    db_url: str, kb_settings: RetrievalSettings
) -> None:
    with db.session_scope(db_url) as session:
        session.add(
            KnowledgeArticle(
                title="Shipping times", body="## Europe\nTwo to four days.", url="/kb/shipping"
            )
        )
    index, report = _sync(db_url, kb_settings, [], crm=True)
    assert report.added_sources == 1 and index.chunks
    for name in ("bodies.faiss", "manifest.json"):
        (kb_settings.index_dir / name).unlink()
    with db.session_scope(db_url) as session:
        rebuilt = open_index(session, kb_settings)
        count = session.scalar(select(func.count()).select_from(KnowledgeChunk))
    assert len(rebuilt) == count == 1
    assert rebuilt.search_groups("how long does delivery to europe take")[0].group == (
        "crm:article/1"
    )


def test_answer_cites_and_abstains(db_url: str, kb_settings: RetrievalSettings, tmp_path: Path):  # noqa: ANN201
    docs = tmp_path / "kb"
    _write_docs(docs)
    index, _ = _sync(db_url, kb_settings, [docs])
    kb = KnowledgeService(index)
    got = kb.answer("I forgot my password, how do I reset it?")
    assert not got.abstained and got.citations[0].title == "Reset your password"
    assert "Source: Reset your password" in got.text and 0.0 <= got.confidence <= 1.0
    assert kb.answer("what is the capital of peru").abstained
    public = kb.answer("what discount may a sales rep give?", audience="public")
    assert all(h.audience == Audience.public for h in public.citations)
    staff = kb.search("what discount may a sales rep give?", audience="internal")
    assert staff[0].title == "Discount approval"
    for bad in ("", "   \n\t", "x" * 5000):
        result = kb.answer(bad)
        assert result.abstained and result.citations == [] and "?" not in result.text[:0]


def test_module_answer_never_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'no.db'}")
    service.reset_service()
    try:
        result = service.answer("how do I reset my password?")
    finally:
        service.reset_service()
    assert result.abstained and result.text == service.DONT_KNOW
