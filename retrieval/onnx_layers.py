"""A second ONNX export of all-MiniLM-L6-v2 that also outputs the inner layers' states.

Why: the bot's intent classifier reads, beside the sentence embedding (mean of the last
layer), the mean of layers 4 and 5. Middle layers keep more of the wording that the last
layer, trained for sentence similarity, smooths away; on BANKING77's 5-fold cross-validation
they added +0.2 points of accuracy (docs/benchmarks.md, NLU). The Rasa venv has onnxruntime
but neither torch nor onnx, so this graph is made here, once, beside `model.onnx` in the
export folder, from the same weights. Retrieval keeps using `model.onnx`.

Outputs: `last_hidden_state` and `hidden_1` ... `hidden_5` (`hidden_i` = the output of
encoder layer i, i.e. sentence-transformers' `hidden_states[i]`), each [batch, seq, 384].
"""

from __future__ import annotations

import json
import os
from pathlib import Path

LAYERS_GRAPH = "model_layers.onnx"
LAYERS_MANIFEST = "layers.json"
INNER_LAYERS = (1, 2, 3, 4, 5)


def ensure_layer_graph(folder: Path) -> Path:
    """Return `folder/model_layers.onnx`, exporting it from the bundled weights if missing.

    Args:
        folder: an export folder written by `retrieval.onnx_export.export_onnx`.

    Returns:
        The path of the graph with the inner layers as outputs.
    """
    target = folder / LAYERS_GRAPH
    manifest = folder / LAYERS_MANIFEST
    if target.is_file() and manifest.is_file():
        return target
    tmp = folder / (LAYERS_GRAPH + ".tmp")
    _export(tmp)
    os.replace(tmp, target)
    manifest.write_text(json.dumps({"graph": LAYERS_GRAPH, "inner_layers": list(INNER_LAYERS)}))
    return target


def _export(out: Path) -> None:
    from retrieval.onnx_export import export_graph, model_dir

    export_graph(model_dir(), out, INNER_LAYERS)
