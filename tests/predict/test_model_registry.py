"""The model registry refuses what it should and records what it must."""

from __future__ import annotations

import fractions
import json

import pytest

from predict import registry
from predict.errors import ModelNotFoundError, UntrustedModelError


def _manifest(name: str = "toy") -> registry.Manifest:
    return registry.Manifest(
        name=name,
        version=registry.new_version(name, "ab" * 32),
        data_sha256="ab" * 32,
        data_source="test",
        metrics={"roc_auc": 0.5},
        features=["x"],
        params={"C": 1.0},
        created_at="2026-01-01T00:00:00+00:00",
    )


def test_untrusted_types_are_refused(models_root) -> None:
    registry.save(_manifest(), {"weights": fractions.Fraction(1, 3)}, "# card", models_root)
    with pytest.raises(UntrustedModelError, match="fractions.Fraction"):
        registry.load("toy", root=models_root)


def test_missing_model_says_how_to_train(models_root) -> None:
    with pytest.raises(ModelNotFoundError, match="crm predict train churn"):
        registry.load("churn", root=models_root)


def test_version_folder_has_manifest_card_and_latest(models_root) -> None:
    manifest = _manifest()
    folder = registry.save(manifest, {"w": [1.0, 2.0]}, "# Model card: toy", models_root)
    assert json.loads((folder / "manifest.json").read_text())["data_sha256"] == "ab" * 32
    assert (folder / "card.md").read_text().startswith("# Model card")
    assert (models_root / "toy" / "LATEST").read_text() == manifest.version
    assert registry.list_versions("toy", models_root) == [manifest]


def test_model_card_lists_features_and_metrics() -> None:
    card = registry.model_card(_manifest(), "testing", ["none"])
    assert "`x`" in card and "roc_auc: 0.5" in card
