"""Lead score reasons add up; sentiment works offline and flags upset customers."""

from __future__ import annotations

import math

import pytest

from predict import leads, sentiment


def test_lead_reasons_sum_to_the_score() -> None:
    result = leads.score_lead("ana@initech.example", "Initech", "We need a quote for 40 seats")
    log_odds = result.base_log_odds + sum(r.effect for r in result.reasons)
    assert math.isclose(1 / (1 + math.exp(-log_odds)), result.probability, abs_tol=1e-9)


def test_business_intent_beats_free_mail_without_need() -> None:
    strong = leads.score_lead("ana@initech.example", "Initech", "Pricing and a demo please")
    weak = leads.score_lead("someone@gmail.com", None, "")
    assert strong.probability > weak.probability
    assert weak.features["business_email"] == 0 and strong.features["buying_intent"] == 1


def test_fit_needs_enough_outcomes() -> None:
    rows = [leads.lead_features("a@b.example", "B", "demo")] * 5
    with pytest.raises(ValueError, match="at least"):
        leads.fit(rows, [1] * 5)


@pytest.mark.parametrize(
    ("text", "label", "upset"),
    [
        ("This is the worst service ever, I am furious and want to cancel!", "negative", True),
        ("Thanks a lot, the delivery was great!", "positive", False),
        ("Where is order ORD-100001?", "neutral", False),
        ("   ", "neutral", False),
    ],
)
def test_sentiment(text: str, label: str, upset: bool) -> None:
    result = sentiment.analyze(text)
    assert (result.label, result.upset) == (label, upset)
    assert -1 <= result.compound <= 1


def test_sentiment_rejects_non_text() -> None:
    with pytest.raises(TypeError):
        sentiment.analyze(None)  # type: ignore[arg-type]
