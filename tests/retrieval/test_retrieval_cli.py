"""`crm kb index|search` and `crm retrieval evaluate` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crm_cli.main import app
from retrieval import service

runner = CliRunner()
CORPUS = (
    "pair_id,thread_id,question,answer\n"
    "0_0,0,How do I reset my password?,Use Settings > Security > Reset password.\n"
    "0_1,0,How do I reset my password?,Ask the workspace owner.\n"
    "1_0,1,Where are my invoices?,Billing > History lists every invoice as PDF.\n"
    "2_0,2,How do I export contacts?,Contacts > Export > CSV.\n"
)
QUERIES = (
    "query_id,thread_id,query\n"
    "a,0,forgot my password\n"
    "b,1,download last month's bill\n"
    "c,2,save my contact list as a spreadsheet\n"
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> Path:
    monkeypatch.setenv("CRM_DATABASE_URL", db_url)
    monkeypatch.setenv("CRM_RETRIEVAL_INDEX_DIR", str(tmp_path / "index"))
    service.reset_service()
    yield tmp_path
    service.reset_service()


def test_kb_index_then_search(env: Path) -> None:
    docs = env / "docs"
    (docs / "internal").mkdir(parents=True)
    (docs / "reset.md").write_text("# Reset your password\nSettings > Security > Reset password.")
    (docs / "internal" / "pricing.md").write_text("# Discount rules\nReps may give 15% at most.")
    (docs / "bad.csv").write_text('question,answer\n"unterminated,x\n')
    result = runner.invoke(app, ["kb", "index", str(docs)])
    assert result.exit_code == 0, result.output
    assert "2 added" in result.stdout and "bad.csv" in result.stderr

    result = runner.invoke(app, ["kb", "search", "how can I change my password"])
    assert result.exit_code == 0, result.output
    assert "1. [" in result.stdout and "Reset your password" in result.stdout
    public = runner.invoke(app, ["kb", "search", "maximum discount for reps"])
    assert "Discount rules" not in public.stdout
    staff = runner.invoke(
        app, ["kb", "search", "maximum discount for reps", "--audience", "internal"]
    )
    assert "Discount rules" in staff.stdout

    # A re-index is picked up by the already-loaded service (manifest changed).
    (docs / "shipping.md").write_text("# Shipping times\nEurope: two to four working days.")
    assert "1 added" in runner.invoke(app, ["kb", "index", str(docs)]).stdout
    assert "Shipping times" in runner.invoke(app, ["kb", "search", "delivery to europe"]).stdout

    assert runner.invoke(app, ["kb", "search", "   "]).exit_code == 2
    assert runner.invoke(app, ["kb", "search", "x", "--audience", "everyone"]).exit_code == 2


def test_evaluate_prints_metrics_json_last(tmp_path: Path) -> None:
    corpus, queries, neg = tmp_path / "c.csv", tmp_path / "q.csv", tmp_path / "n.csv"
    corpus.write_text(CORPUS)
    queries.write_text(QUERIES)
    neg.write_text("text\nwhat is the weather on mars\nplay some jazz\n")
    result = runner.invoke(
        app,
        [
            "retrieval",
            "evaluate",
            "--corpus",
            str(corpus),
            "--queries",
            str(queries),
            "--negatives",
            str(neg),
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    for key in (
        "recall_at_1",
        "recall_at_5",
        "mrr",
        "p50_ms",
        "p95_ms",
        "abstain_rate_negatives",
        "answered_correct_rate",
    ):
        assert key in metrics and key in metrics["baseline_tfidf"]
    assert metrics["recall_at_5"] == 1.0 and 0 <= metrics["recall_at_1"] <= 1
    assert "indexed" in result.stderr


def test_evaluate_names_the_bad_file_and_column(tmp_path: Path) -> None:
    corpus, queries = tmp_path / "c.csv", tmp_path / "q.csv"
    corpus.write_text(CORPUS)
    queries.write_text("id,text\n1,hello\n")
    result = runner.invoke(
        app, ["retrieval", "evaluate", "--corpus", str(corpus), "--queries", str(queries)]
    )
    assert result.exit_code == 2
    assert "q.csv" in result.stderr and "query" in result.stderr
