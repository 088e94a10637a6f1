"""Retrieval test fixtures: one embedder per session, tiny corpora, settings under tmp_path."""

from __future__ import annotations

import pytest

from retrieval.config import RetrievalSettings
from retrieval.embedder import Embedder, load_embedder
from retrieval.knowledge import KnowledgeIndex
from retrieval.types import Audience, Chunk

ARTICLES = [
    (
        "reset",
        "Reset your password",
        "Open Settings, choose Security and click 'Reset password'. "
        "We email you a link that is valid for one hour.",
    ),
    (
        "invoice",
        "Download an invoice",
        "Invoices are under Billing > History. Click the PDF icon next to the month you need.",
    ),
    (
        "export",
        "Export contacts to CSV",
        "Go to Contacts, select the rows and choose Export > CSV.",
    ),
    ("refund", "Refund policy", "Annual plans can be refunded within 30 days of purchase."),
]
INTERNAL = (
    "discount",
    "Discount approval matrix",
    "Sales reps may give up to 15% discount; "
    "above that the sales manager must approve in the deal record.",
)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> RetrievalSettings:
    """Default settings with the index under a temporary folder.

    The ONNX export stays in the repository's var/ cache so it is built once per checkout.
    """
    return RetrievalSettings().with_(index_path=tmp_path_factory.mktemp("retrieval") / "index")


@pytest.fixture(scope="session")
def embedder(settings: RetrievalSettings) -> Embedder:
    """The ONNX MiniLM embedder, loaded once for the whole test session."""
    return load_embedder(settings)


def make_chunks() -> list[Chunk]:
    """The tiny help centre: four public articles and one internal one."""
    chunks = [
        Chunk(
            source=f"{key}.md", ordinal=0, group=key, title=title, text=text, url=f"/kb/{key}", id=n
        )
        for n, (key, title, text) in enumerate(ARTICLES, start=1)
    ]
    key, title, text = INTERNAL
    chunks.append(
        Chunk(
            source=f"internal/{key}.md",
            ordinal=0,
            group=key,
            title=title,
            text=text,
            url=f"/kb/{key}",
            audience=Audience.internal,
            id=99,
        )
    )
    return chunks


@pytest.fixture
def index(embedder: Embedder, settings: RetrievalSettings) -> KnowledgeIndex:
    """A small in-memory knowledge index over `make_chunks()`."""
    kb = KnowledgeIndex(embedder, settings)
    kb.add(make_chunks())
    return kb
