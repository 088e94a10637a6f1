"""The trained bot's NLU on the real Rasa server: unrelated messages go to out-of-scope
handling, known account names are found even where the CRF never saw them."""

from __future__ import annotations

import uuid

import httpx
import pytest
import yaml

from retrieval.config import REPO_ROOT

pytestmark = pytest.mark.integration

OUT_OF_SCOPE = {"out_of_scope", "nlu_fallback"}  # nlu_fallback: below the config's threshold


def _parse(rasa_url: str, text: str) -> dict:
    response = httpx.post(f"{rasa_url}/model/parse", json={"text": text}, timeout=30.0)
    response.raise_for_status()
    return response.json()


@pytest.mark.parametrize(
    "text", ["what's the weather on mars", "who painted the mona lisa", "zxcv qwer"]
)
def test_unrelated_message_goes_to_out_of_scope(rasa_url: str, text: str) -> None:
    parsed = _parse(rasa_url, text)
    assert parsed["intent"]["name"] in OUT_OF_SCOPE, parsed["intent"]


def test_known_account_at_sentence_end_is_one_entity(rasa_url: str) -> None:
    parsed = _parse(rasa_url, "give me a summary of Acme Corp.")
    assert parsed["intent"]["name"] == "account_summary"
    accounts = [e["value"] for e in parsed["entities"] if e["entity"] == "account"]
    assert accounts == ["Acme Corp"]


def test_weather_on_mars_gets_the_out_of_scope_reply(running) -> None:
    domain = yaml.safe_load((REPO_ROOT / "bot" / "domain.yml").read_text())
    names = ("utter_out_of_scope", "utter_default")
    replies = {r["text"] for name in names for r in domain["responses"][name]}
    with running.client() as client:
        response = client.post(
            "/v1/chat/web",
            json={"session_id": f"it-{uuid.uuid4().hex[:8]}", "text": "what's the weather on mars"},
        )
    assert response.status_code == 200, response.text
    texts = [m["text"] for m in response.json()["messages"] if m.get("text")]
    assert texts and set(texts) <= replies, texts
