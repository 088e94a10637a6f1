"""Heading-aware sections and overlapping windows."""

from __future__ import annotations

from retrieval.chunking import html_sections, markdown_sections, windows


def test_markdown_sections_carry_heading_paths() -> None:
    text = "# Guide\nintro\n## Install\nrun it\n### Linux\napt\n## Use\n```\n# not a heading\n```\n"
    title, sections = markdown_sections(text)
    assert title == "Guide"
    assert [s.heading for s in sections] == [
        "Guide",
        "Guide > Install",
        "Guide > Install > Linux",
        "Guide > Use",
    ]
    assert "# not a heading" in sections[-1].text


def test_html_sections_skip_scripts_and_read_meta() -> None:
    html = (
        "<html><head><title>Billing</title><meta name='audience' content='internal'>"
        "<script>var x=1;</script></head><body><h1>Invoices</h1><p>Find them here.</p>"
        "<h2>Refunds</h2><p>Within 30 days.</p></body></html>"
    )
    title, meta, sections = html_sections(html)
    assert title == "Billing" and meta["audience"] == "internal"
    assert [s.heading for s in sections] == ["Invoices", "Invoices > Refunds"]
    assert "var x" not in " ".join(s.text for s in sections)


def test_windows_respect_size_and_overlap() -> None:
    text = " ".join(f"Sentence number {i} ends here." for i in range(100))
    pieces = windows(text, 300, 60)
    assert len(pieces) > 5
    assert all(len(p) <= 300 for p in pieces)
    for a, b in zip(pieces, pieces[1:], strict=False):
        assert b[:15] in a  # the next piece starts inside the previous one
    assert "Sentence number 99" in pieces[-1]


def test_short_and_empty_text() -> None:
    assert windows("short", 300, 60) == ["short"]
    assert windows("   ", 300, 60) == []
