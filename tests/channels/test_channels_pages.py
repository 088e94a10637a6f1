"""The chat pages render, are locked down by CSP, and never inject bot text as HTML."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from channels.api.routes.pages import STATIC_DIR


@pytest.mark.parametrize(
    ("path", "mode", "title"), [("/", "web", "Help chat"), ("/rep", "rep", "Rep console")]
)
def test_page_renders_with_security_headers(
    bare_client: TestClient, path: str, mode: str, title: str
) -> None:
    response = bare_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert f'data-mode="{mode}"' in response.text
    assert f"<h1>{title}</h1>" in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("asset", ["chat.js", "charts.js", "console.js", "style.css"])
def test_assets_are_served(bare_client: TestClient, asset: str) -> None:
    response = bare_client.get(f"/static/{asset}")
    assert response.status_code == 200
    assert response.text == (STATIC_DIR / asset).read_text()


@pytest.mark.parametrize("script", ["chat.js", "charts.js", "console.js"])
def test_script_renders_messages_as_text_only(script: str) -> None:
    lines = Path(STATIC_DIR / script).read_text().splitlines()
    code = "\n".join(line for line in lines if not line.strip().startswith("//"))
    assert "textContent" in code
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in code


def test_console_fetches_nothing_from_elsewhere() -> None:
    """No CDN, no external assets: every URL the page or its scripts use is our own."""
    for name in ("rep.html", "charts.js", "console.js", "style.css"):
        text = (STATIC_DIR / name).read_text()
        assert "https://" not in text and "//cdn" not in text, name
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", ""), name


def test_pages_load_no_inline_script() -> None:
    for page in ("index.html", "rep.html"):
        html = (STATIC_DIR / page).read_text()
        assert "<script>" not in html
        assert "onclick=" not in html
