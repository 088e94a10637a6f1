"""Sentiment of customer messages with VADER, a lexicon that ships inside its package.

Offline by construction: `vaderSentiment` reads `vader_lexicon.txt` from its own folder, so
nothing is fetched at run time. Rules and the handoff logic use `Sentiment.upset`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# VADER's own recommended cut-offs for the compound score.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
# Clearly upset: strong enough to offer a human (tuned on phrases in tests/predict).
UPSET_AT = -0.4
MAX_CHARS = 5000


@dataclass(frozen=True)
class Sentiment:
    """Sentiment of one message.

    Attributes:
        compound: VADER compound score in [-1, 1]; below 0 is negative.
        label: "negative", "neutral" or "positive".
        upset: True when compound <= UPSET_AT (a reason to offer a human agent).
    """

    compound: float
    label: str
    upset: bool


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def analyze(text: str) -> Sentiment:
    """Score one message; empty or whitespace-only text is neutral.

    Args:
        text: the message; only the first 5,000 characters are read.

    Returns:
        The compound score, its label and whether the customer looks upset.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    if not text.strip():
        return Sentiment(0.0, "neutral", False)
    compound = float(_analyzer().polarity_scores(text[:MAX_CHARS])["compound"])
    if compound >= POSITIVE_AT:
        label = "positive"
    elif compound <= NEGATIVE_AT:
        label = "negative"
    else:
        label = "neutral"
    return Sentiment(round(compound, 4), label, compound <= UPSET_AT)
