"""The custom Rasa components, checked in `.venv-rasa` through a subprocess.

`rasa_side_checks.py` does the work (tiny data, real `LocalModelStorage`); this file runs it
once and turns each check into a pytest result, then compares the ONNX featurizer's vectors
with the torch sentence-transformers model (the reference).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crm_cli.rasa_model import run_rasa_script
from retrieval.onnx_export import export_onnx

CHECKS = Path(__file__).with_name("rasa_side_checks.py")
SENTENCES = [  # the same list as rasa_side_checks.SENTENCES
    "where is my order ORD-100023",
    "show me the account summary for Acme Corp.",
    "what's the weather on mars",
    "I'd like to talk to a human please",
]


@pytest.fixture(scope="module")
def rasa_results() -> dict[str, Any]:
    """Run every Rasa-side check once (about 20 s: TensorFlow import + tiny training)."""
    return run_rasa_script(CHECKS, {"CRM_NLU_ONNX_DIR": str(export_onnx())})


@pytest.mark.parametrize("check", ["featurizer", "classifier", "gazetteer"])
def test_component(rasa_results: dict[str, Any], check: str) -> None:
    outcome = rasa_results[check]
    assert outcome["ok"], outcome.get("detail")


def test_featurizer_matches_torch_model(rasa_results: dict[str, Any]) -> None:
    from retrieval.config import RetrievalSettings
    from retrieval.embedder import TorchEmbedder

    onnx = np.array(rasa_results["featurizer"]["embeddings"], dtype=np.float32)
    torch_vectors = TorchEmbedder(RetrievalSettings()).encode(SENTENCES)
    cosines = (onnx * torch_vectors).sum(axis=1)
    assert onnx.shape == torch_vectors.shape == (len(SENTENCES), 384)
    assert cosines.min() >= 0.999, cosines
