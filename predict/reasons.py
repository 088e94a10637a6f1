"""Reasons in words a sales rep understands, built from exact model contributions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from predict import telco

_ADDON_NAMES = {
    "OnlineSecurity": "online security",
    "OnlineBackup": "online backup",
    "DeviceProtection": "device protection",
    "TechSupport": "tech support",
    "StreamingTV": "streaming TV",
    "StreamingMovies": "streaming movies",
}
_PHRASES: dict[str, dict[str, str]] = {
    "gender": {"Female": "female customer", "Male": "male customer"},
    "SeniorCitizen": {"Yes": "senior citizen", "No": "not a senior citizen"},
    "Partner": {"Yes": "has a partner", "No": "no partner"},
    "Dependents": {"Yes": "has dependents", "No": "no dependents"},
    "PhoneService": {"Yes": "has phone service", "No": "no phone service"},
    "MultipleLines": {
        "Yes": "multiple phone lines",
        "No": "single phone line",
        "No phone service": "no phone service",
    },
    "InternetService": {
        "Fiber optic": "fiber optic internet",
        "DSL": "DSL internet",
        "No": "no internet service",
    },
    "Contract": {
        "Month-to-month": "month-to-month contract",
        "One year": "one-year contract",
        "Two year": "two-year contract",
    },
    "PaperlessBilling": {"Yes": "paperless billing", "No": "paper bills"},
    "PaymentMethod": {
        "Electronic check": "pays by electronic check",
        "Mailed check": "pays by mailed check",
        "Bank transfer (automatic)": "pays by automatic bank transfer",
        "Credit card (automatic)": "pays by automatic credit card",
    },
}
for _feature, _name in _ADDON_NAMES.items():
    _PHRASES[_feature] = {
        "Yes": f"has {_name}",
        "No": f"no {_name}",
        "No internet service": f"no internet, so no {_name}",
    }


def phrase(feature: str, value: Any) -> str:
    """Describe one input value the way a rep would say it ("tenure 2 months")."""
    if feature == "tenure":
        months = int(round(float(value)))
        return f"tenure {months} month{'' if months == 1 else 's'}"
    if feature == "MonthlyCharges":
        return f"monthly charges ${float(value):,.2f}"
    if feature == "TotalCharges":
        return f"total charges to date ${float(value):,.2f}"
    known = _PHRASES.get(feature, {})
    if value in known:
        return known[value]
    return f"{feature} '{value}' (a value the model has not seen)"


@dataclass(frozen=True)
class Reason:
    """One input's share of a prediction.

    Attributes:
        feature: model input name (a Telco column, or a propensity/lead feature).
        value: the input value for this customer.
        text: the value in a rep's words.
        effect: contribution in log-odds; positive raises the score, negative lowers it.
    """

    feature: str
    value: Any
    text: str
    effect: float

    @property
    def direction(self) -> str:
        """'raises' or 'lowers' (the score)."""
        return "raises" if self.effect > 0 else "lowers"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored in `PredictionScore.reasons`."""
        return {
            "feature": self.feature,
            "value": self.value,
            "text": self.text,
            "effect": round(self.effect, 6),
        }


def telco_reasons(row: dict[str, Any], contributions: list[float]) -> list[Reason]:
    """Return every feature's reason for one Telco row, largest absolute effect first."""
    reasons = [
        Reason(feature, _plain(row[feature]), phrase(feature, row[feature]), float(effect))
        for feature, effect in zip(telco.FEATURES, contributions, strict=True)
    ]
    return sorted(reasons, key=lambda r: abs(r.effect), reverse=True)


def _plain(value: Any) -> Any:
    # numpy scalars are not JSON-serialisable; store plain Python values.
    return value.item() if hasattr(value, "item") else value
