"""Prediction service: churn, purchase propensity, segments, recommendations, leads, sentiment.

Import the submodules you need (`predict.service` for the bot); this package module stays
light so the `crm` command starts fast.
"""

MODEL_NAMES = ("churn", "propensity", "segments", "recommendations")
