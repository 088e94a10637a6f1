"""Knowledge answers: real index built from Markdown files in a tmp folder, real seeded DB.

The actions run the rasa-sdk way (real Tracker, CollectingDispatcher); the index is built
with the same `retrieval.sync.index_paths` that `crm kb index` and the demo use.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bot_support import customer_identity, make_tracker, rep_identity, responses, run, slot_events

from bot.actions.knowledge import ActionAnswerQuestion, ActionKnowledgeFallback
from retrieval.config import RetrievalSettings
from retrieval.service import reset_service
from retrieval.sync import index_paths

ARTICLES = {
    "reset-password.md": (
        "Reset your password",
        "https://help.example/reset",
        "public",
        "Click Forgot password? on the sign-in page and we email you a reset link, valid for "
        "one hour.",
    ),
    "refunds.md": (
        "Refund policy",
        "https://help.example/refunds",
        "public",
        "Annual subscriptions can be refunded in full within 30 days of purchase.",
    ),
    "api-limits.md": (
        "API rate limits",
        "",
        "public",
        "The REST API allows 100 requests per 10 seconds per API key; over that it answers 429.",
    ),
    "internal/discount-approval.md": (
        "Discount approval policy",
        "https://intranet.example/discounts",
        "internal",
        "Reps may give up to 10 % discount; above that the sales manager must approve.",
    ),
}


def write_kb(folder: Path) -> None:
    """Write the articles as Markdown with front matter, as in the repository's kb/."""
    for name, (title, url, audience, body) in ARTICLES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        front = f"---\ntitle: {title}\nurl: {url}\naudience: {audience}\n---\n"
        path.write_text(f"{front}# {title}\n\n{body}\n", encoding="utf-8")


@pytest.fixture
def kb(crm_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The small knowledge base indexed into the seeded test database and a tmp index dir."""
    monkeypatch.setenv("CRM_RETRIEVAL_INDEX_DIR", str(tmp_path / "index"))
    write_kb(tmp_path / "kb")
    reset_service()
    report, size = index_paths([tmp_path / "kb"], crm_db, RetrievalSettings())
    assert size == len(ARTICLES) and not report.errors
    yield crm_db
    reset_service()


def message(messages: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(messages) == 1, messages
    return messages[0]


async def test_customer_gets_a_cited_answer_with_confidence(kb: str, domain: dict) -> None:
    text = "how do I reset my password?"
    tracker = make_tracker(text, "ask_question", crm=customer_identity())
    events, messages = await run(ActionAnswerQuestion(), tracker, domain)
    sent = message(messages)
    assert sent["response"] == "utter_kb_answer"
    assert sent["title"] == "Reset your password"
    assert sent["url"] == "https://help.example/reset"
    assert "reset link" in sent["answer"]
    assert sent["confidence"].endswith("%") and 0 < int(sent["confidence"][:-1]) <= 100
    assert slot_events(events) == {"kb_abstained": False}


async def test_customer_never_gets_an_internal_article(kb: str, domain: dict) -> None:
    tracker = make_tracker(
        "what's the discount approval policy?", "ask_question", crm=customer_identity()
    )
    events, messages = await run(ActionAnswerQuestion(), tracker, domain)
    assert responses(messages) == ["utter_kb_dont_know"]
    assert "Discount" not in str(messages)
    assert slot_events(events) == {"kb_abstained": True}


async def test_rep_gets_the_internal_article(kb: str, domain: dict) -> None:
    tracker = make_tracker(
        "what's the discount approval policy?", "ask_question", crm=rep_identity()
    )
    _, messages = await run(ActionAnswerQuestion(), tracker, domain)
    sent = message(messages)
    assert sent["response"] == "utter_kb_answer"
    assert sent["title"] == "Discount approval policy"


async def test_forged_staff_role_without_user_stays_public(kb: str, domain: dict) -> None:
    forged = {"role": "admin", "user_id": None, "channel": "web"}
    tracker = make_tracker("what's the discount approval policy?", "ask_question", crm=forged)
    _, messages = await run(ActionAnswerQuestion(), tracker, domain)
    assert responses(messages) == ["utter_kb_dont_know"]


@pytest.mark.parametrize(
    "question", ["what's the weather in Paris?", "who won the world cup?", "tell me a joke"]
)
async def test_out_of_domain_question_abstains_and_offers_a_person(
    kb: str, domain: dict, question: str
) -> None:
    _, messages = await run(ActionAnswerQuestion(), make_tracker(question, "ask_question"), domain)
    assert responses(messages) == ["utter_kb_dont_know"]


async def test_article_without_link_is_cited_by_title(kb: str, domain: dict) -> None:
    tracker = make_tracker("what is the API rate limit?", "ask_question")
    _, messages = await run(ActionAnswerQuestion(), tracker, domain)
    sent = message(messages)
    assert sent["response"] == "utter_kb_answer_no_link"
    assert sent["title"] == "API rate limits"


async def test_empty_question_is_answered_politely(kb: str, domain: dict) -> None:
    _, messages = await run(ActionAnswerQuestion(), make_tracker("   ", "ask_question"), domain)
    assert responses(messages) == ["utter_kb_dont_know"]


async def test_fallback_answers_only_when_confident(kb: str, domain: dict) -> None:
    known = make_tracker("can I get a refund on my annual plan", "nlu_fallback")
    events, messages = await run(ActionKnowledgeFallback(), known, domain)
    assert message(messages)["title"] == "Refund policy"
    assert events == []
    unknown = make_tracker("asdf qwerty blorp", "nlu_fallback")
    _, messages = await run(ActionKnowledgeFallback(), unknown, domain)
    assert responses(messages) == ["utter_default"]


async def test_missing_store_tables_give_dont_know_not_a_crash(
    domain: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    monkeypatch.setenv("CRM_RETRIEVAL_INDEX_DIR", str(tmp_path / "index"))
    reset_service()
    try:
        tracker = make_tracker("how do I reset my password?", "ask_question")
        _, messages = await run(ActionAnswerQuestion(), tracker, domain)
    finally:
        reset_service()
    assert responses(messages) == ["utter_kb_dont_know"]


def test_domain_wires_the_knowledge_actions(domain: dict) -> None:
    for action in (ActionAnswerQuestion(), ActionKnowledgeFallback()):
        assert action.name() in domain["actions"]
    for name in (
        "utter_kb_answer",
        "utter_kb_answer_no_link",
        "utter_kb_dont_know",
        "utter_default",
    ):
        assert name in domain["responses"]
    buttons = domain["responses"]["utter_kb_dont_know"][0]["buttons"]
    assert {"title": "Talk to a person", "payload": "/human_handoff"} in buttons
    for placeholder in ("{answer}", "{title}", "{url}", "{confidence}"):
        assert placeholder in domain["responses"]["utter_kb_answer"][0]["text"]
    assert domain["slots"]["kb_abstained"]["type"] == "bool"
