"""`snippet`: what the bot quotes from the cited chunk."""

from __future__ import annotations

from retrieval.service import SNIPPET_CHARS, snippet
from retrieval.types import Hit


def _hit(text: str) -> Hit:
    return Hit(1, 0.9, "Title", "https://help.example/t", text)


def test_joins_wrapped_lines_and_keeps_paragraphs() -> None:
    text = "Open the sign-in page and\nclick Forgot password.\n\nThe link is valid\nfor one hour."
    assert snippet(_hit(text)) == (
        "Open the sign-in page and click Forgot password.\n\nThe link is valid for one hour."
    )


def test_long_text_is_cut_with_an_ellipsis() -> None:
    out = snippet(_hit("word " * 500))
    assert len(out) == SNIPPET_CHARS + 1 and out.endswith("…")
