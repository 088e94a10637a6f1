"""Lead score for new leads from the lead form: additive log-odds points with reasons.

There is no labelled lead history in the shipped data, so the default weights are stated
priors (documented in docs/predict.md), not a fitted model. Once the CRM holds enough
converted and disqualified leads, `fit` learns the weights from them with the same features,
and the reasons stay exact because the score is still a sum of per-feature terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from predict.reasons import Reason
from predict.sentiment import analyze

FREE_MAIL = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com",
        "aol.com", "icloud.com", "me.com", "gmx.com", "gmx.de", "web.de", "proton.me",
        "protonmail.com", "mail.com", "yandex.com", "qq.com", "163.com",
    }
)  # fmt: skip
INTENT = re.compile(
    r"\b(pric\w*|quote|demo|buy\w*|purchas\w*|licen[cs]\w*|seats?|trial|contract|"
    r"upgrade|budget|rollout|migrat\w*|proposal)\b",
    re.IGNORECASE,
)
FEATURES = ("business_email", "company_given", "buying_intent", "detailed_need", "negative_tone")
_TEXT = {
    "business_email": ("company email address", "personal email address"),
    "company_given": ("gave a company name", "no company name"),
    "buying_intent": ("asks about buying (price, demo, licence...)", "no buying signal"),
    "detailed_need": ("described the need in detail", "short or no description"),
    "negative_tone": ("message sounds unhappy", "neutral or positive tone"),
}
# Prior weights in log-odds (see module docstring); base ~ 10 % of raw leads qualify.
PRIOR: dict[str, Any] = {
    "intercept": -2.2,
    "weights": {
        "business_email": 1.0,
        "company_given": 0.6,
        "buying_intent": 1.3,
        "detailed_need": 0.5,
        "negative_tone": -0.4,
    },
}
MIN_LABELLED_PER_CLASS = 20


def lead_features(email: str, company: str | None, need: str | None) -> dict[str, int]:
    """Binary features of a lead (1 = present)."""
    domain = email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""
    need = need or ""
    return {
        "business_email": int(bool(domain) and domain not in FREE_MAIL),
        "company_given": int(bool((company or "").strip())),
        "buying_intent": int(bool(INTENT.search(need))),
        "detailed_need": int(len(need.split()) >= 8),
        "negative_tone": int(analyze(need).label == "negative"),
    }


@dataclass(frozen=True)
class LeadScore:
    """A lead's score and why.

    Attributes:
        probability: estimated chance the lead qualifies, in [0, 1].
        reasons: every feature's log-odds term, largest absolute first;
            `base_log_odds + sum(effects)` is the score's log-odds.
        base_log_odds: the intercept.
        model_version: "lead_score-prior" or the trained version.
    """

    probability: float
    reasons: list[Reason]
    base_log_odds: float
    model_version: str
    features: dict[str, int] = field(default_factory=dict)


def score_lead(
    email: str,
    company: str | None = None,
    need: str | None = None,
    weights: dict[str, Any] | None = None,
    model_version: str = "lead_score-prior",
) -> LeadScore:
    """Score one lead from the lead form.

    Args:
        email: the lead's email (its domain tells company from personal mail).
        company: company name, if given.
        need: what the lead wrote about their need.
        weights: `{"intercept": float, "weights": {feature: float}}`; default `PRIOR`.
        model_version: recorded with the score.

    Returns:
        Probability in [0, 1] with exact additive reasons, largest first.
    """
    weights = weights or PRIOR
    values = lead_features(email, company, need)
    reasons = [
        Reason(name, value, _TEXT[name][0 if value else 1], float(weights["weights"][name] * value))
        for name, value in values.items()
    ]
    reasons.sort(key=lambda r: abs(r.effect), reverse=True)
    logit = weights["intercept"] + sum(r.effect for r in reasons)
    return LeadScore(
        probability=float(1.0 / (1.0 + np.exp(-logit))),
        reasons=reasons,
        base_log_odds=float(weights["intercept"]),
        model_version=model_version,
        features=values,
    )


def fit(rows: list[dict[str, int]], outcomes: list[int], random_state: int = 42) -> dict[str, Any]:
    """Learn weights from labelled leads (1 = converted/qualified, 0 = disqualified).

    Raises:
        ValueError: fewer than MIN_LABELLED_PER_CLASS leads of either outcome.
    """
    y = np.asarray(outcomes, dtype=int)
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if min(positives, negatives) < MIN_LABELLED_PER_CLASS:
        raise ValueError(
            f"need at least {MIN_LABELLED_PER_CLASS} converted and {MIN_LABELLED_PER_CLASS} "
            f"disqualified leads to train; the store has {positives} and {negatives}"
        )
    x = np.array([[row[f] for f in FEATURES] for row in rows], dtype=float)
    model = LogisticRegression(
        C=1.0, fit_intercept=True, max_iter=1000, random_state=random_state, solver="lbfgs"
    ).fit(x, y)
    return {
        "intercept": float(model.intercept_[0]),
        "weights": {f: float(w) for f, w in zip(FEATURES, model.coef_[0], strict=True)},
    }
