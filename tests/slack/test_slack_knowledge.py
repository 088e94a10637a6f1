"""Knowledge-base answers in Slack: cited, internal articles for staff, unsure said plainly.

A tiny help centre is indexed into the test's database with the same `index_paths` the
`crm kb index` command uses; the question arrives as a signed mention through the real API.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_slack import BOT_USER_ID, FakeSlack
from slack_support import AGENT, Sender

from retrieval.config import RetrievalSettings
from retrieval.service import reset_service
from retrieval.sync import index_paths

ARTICLES = {
    "reset-password.md": ("Reset your password", "https://help.example/reset", "public",
                          "Click Forgot password? on the sign-in page and we email you a reset "
                          "link, valid for one hour."),
    "refunds.md": ("Refund policy", "https://help.example/refunds", "public",
                   "Annual subscriptions can be refunded in full within 30 days of purchase."),
    "internal/discount-approval.md": ("Discount approval policy",
                                      "https://intranet.example/discounts", "internal",
                                      "Reps may give up to 10 % discount; above that the sales "
                                      "manager must approve."),
}  # fmt: skip


@pytest.fixture
def kb(seeded_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The small knowledge base indexed into the seeded database and a tmp index folder."""
    monkeypatch.setenv("CRM_RETRIEVAL_INDEX_DIR", str(tmp_path / "index"))
    for name, (title, url, audience, body) in ARTICLES.items():
        path = tmp_path / "kb" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\ntitle: {title}\nurl: {url}\naudience: {audience}\n---\n"
                        f"# {title}\n\n{body}\n", encoding="utf-8")  # fmt: skip
    reset_service()
    report, size = index_paths([tmp_path / "kb"], seeded_db_url, RetrievalSettings())
    assert size == len(ARTICLES) and not report.errors
    yield seeded_db_url
    reset_service()


def ask(send_event: Sender, fake: FakeSlack, text: str, ts: str) -> str:
    event = {"type": "app_mention", "user": AGENT, "channel": "C0GENERAL", "ts": ts,
             "text": f"<@{BOT_USER_ID}> {text}"}  # fmt: skip
    assert send_event(event, f"Ev{ts.replace('.', '')}").status_code == 200
    posts = fake.wait_for(lambda f: [p for p in f.posts() if p.get("thread_ts") == ts],
                          timeout=60, what="the answer")  # fmt: skip
    return str(posts[0]["text"])


@pytest.mark.usefixtures("kb")
def test_staff_get_internal_articles_with_their_source(
    send_event: Sender, fake_slack: FakeSlack
) -> None:
    answer = ask(send_event, fake_slack, "what's the discount approval policy?", "10.1")
    assert "the sales manager must approve" in answer
    assert (
        "Source: <https://intranet.example/discounts|Discount approval policy> _(internal)_"
        in answer
    )
    assert "confidence" in answer


@pytest.mark.usefixtures("kb")
def test_an_unsure_answer_lists_the_closest_articles(
    send_event: Sender, fake_slack: FakeSlack
) -> None:
    answer = ask(send_event, fake_slack, "search quarterly volcano insurance premiums", "10.2")
    assert answer.startswith("I'm not sure the knowledge base answers that")
    assert "https://help.example/" in answer or "https://intranet.example/" in answer
