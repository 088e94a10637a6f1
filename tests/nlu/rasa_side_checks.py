"""Component checks that must run inside `.venv-rasa` (the main venv cannot import rasa).

`test_nlu_components.py` runs this file once with the Rasa venv's Python (cwd `bot/`,
`PYTHONPATH=bot`) and asserts on the JSON it prints: one entry per check with `ok` and a
`detail`, plus the embeddings of `SENTENCES` for the torch equality test. Each check trains a
component on tiny data with a real `LocalModelStorage` and `Resource`, persists it, loads it
back and compares predictions.
"""

from __future__ import annotations

import json
import sys
import tempfile
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import spacy
from components.gazetteer import GazetteerEntityExtractor
from components.linear_intent_classifier import LinearIntentClassifier
from components.sentence_featurizer import MiniLMFeaturizer
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

SENTENCES = [
    "where is my order ORD-100023",
    "show me the account summary for Acme Corp.",
    "what's the weather on mars",
    "I'd like to talk to a human please",
]
TRAIN = [
    ("hello there", "greet"),
    ("hi, good morning", "greet"),
    ("hey bot", "greet"),
    ("good evening", "greet"),
    ("where is my order", "order_status"),
    ("has my package shipped yet", "order_status"),
    ("track order ORD-100023", "order_status"),
    ("when will my delivery arrive", "order_status"),
    ("bye for now", "goodbye"),
    ("see you later", "goodbye"),
    ("goodbye, thanks", "goodbye"),
    ("talk to you tomorrow", "goodbye"),
]
PROBES = ["hi!", "did my order ship", "see you", "good morning bot"]


def _context(node: str) -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), model_id=uuid.uuid4().hex, node_name=node)


def _messages(pairs: list[tuple[str, str]]) -> list[Message]:
    return [Message(data={"text": text, "intent": intent}) for text, intent in pairs]


def _tokenize(messages: list[Message]) -> WhitespaceTokenizer:
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    tokenizer.process(messages)
    return tokenizer


def _featurize(storage: LocalModelStorage, train: TrainingData, probes: list[Message]) -> None:
    """Tokenize, count-vectorize and embed the training data and the probes."""
    _tokenize(train.training_examples + probes)
    counts = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("cv"), _context("cv")
    )
    counts.train(train)
    counts.process_training_data(train)
    counts.process(probes)
    minilm = MiniLMFeaturizer.create({}, storage, Resource("minilm"), _context("minilm"))
    minilm.train(train)
    minilm.process_training_data(train)
    minilm.process(probes)


def check_featurizer(tmp: Path) -> dict[str, Any]:
    """Shape (1, 384), unit norm, and persist -> load gives identical vectors."""
    storage = LocalModelStorage(tmp)
    resource = Resource("minilm")
    featurizer = MiniLMFeaturizer.create({}, storage, resource, _context("minilm"))
    featurizer.train(TrainingData(_messages(TRAIN)))
    first = [Message(data={"text": s}) for s in SENTENCES]
    featurizer.process(first)
    loaded = MiniLMFeaturizer.load({}, storage, resource, _context("minilm"))
    second = [Message(data={"text": s}) for s in SENTENCES]
    loaded.process(second)
    vectors = np.vstack([m.get_dense_features("text")[1].features for m in first])
    again = np.vstack([m.get_dense_features("text")[1].features for m in second])
    assert vectors.shape == (len(SENTENCES), 384), vectors.shape
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors, again, atol=1e-6), "loaded featurizer differs"
    empty = Message(data={"text": ""})
    featurizer.process([empty])
    assert not empty.features, "a message without text gets no features"
    _check_inner_layers(storage, vectors)
    return {"embeddings": vectors.tolist()}


def _check_inner_layers(storage: LocalModelStorage, plain: np.ndarray) -> None:
    """With `extra_layers` the embedding comes first, unchanged; each layer block is scaled."""
    config = {"extra_layers": [4, 5], "extra_layer_weight": 0.5}
    resource = Resource("minilm_layers")
    featurizer = MiniLMFeaturizer.create(config, storage, resource, _context("layers"))
    featurizer.train(TrainingData(_messages(TRAIN)))
    loaded = MiniLMFeaturizer.load(config, storage, resource, _context("layers"))
    messages = [Message(data={"text": s}) for s in SENTENCES]
    loaded.process(messages)
    wide = np.vstack([m.get_dense_features("text")[1].features for m in messages])
    assert wide.shape == (len(SENTENCES), 3 * 384), wide.shape
    assert np.allclose(wide[:, :384], plain, atol=1e-5), "the embedding must stay first"
    for block in (wide[:, 384:768], wide[:, 768:]):
        assert np.allclose(np.linalg.norm(block, axis=1), 0.5, atol=1e-5)
        assert not np.allclose(block * 2, plain, atol=1e-2), "an inner layer is not the last"
    try:
        MiniLMFeaturizer.validate_config({"extra_layers": [6]})
    except ValueError as exc:
        assert "1-5" in str(exc)
    else:
        raise AssertionError("layer 6 must be refused")


def check_classifier(tmp: Path) -> dict[str, Any]:
    """Ranking invariants, calibrated range, and persist -> load gives the same output."""
    storage = LocalModelStorage(tmp)
    train = TrainingData(_messages(TRAIN))
    probes = [Message(data={"text": p}) for p in PROBES]
    _featurize(storage, train, probes)
    resource = Resource("clf")
    config = {"ranking_length": 2, "calibration_folds": 2}
    clf = LinearIntentClassifier.create(config, storage, resource, _context("clf"))
    clf.train(train)
    clf.process(probes)
    for message in probes:
        ranking = message.get("intent_ranking")
        confidences = [r["confidence"] for r in ranking]
        assert message.get("intent") == ranking[0], message.as_dict()
        assert len(ranking) == 2 and confidences == sorted(confidences, reverse=True)
        assert all(0.0 <= c <= 1.0 for c in confidences)
    predicted = [m.get("intent")["name"] for m in probes]
    assert predicted == ["greet", "order_status", "goodbye", "greet"], predicted
    loaded = LinearIntentClassifier.load(config, storage, resource, _context("clf"))
    assert np.allclose(loaded.predict_proba(probes), clf.predict_proba(probes), atol=1e-6)
    assert clf.temperature > 0
    one_intent = TrainingData(_messages([(t, "greet") for t, y in TRAIN if y == "greet"]))
    try:
        LinearIntentClassifier.create({}, storage, Resource("x"), _context("x")).train(one_intent)
    except ValueError as exc:
        assert "two intents" in str(exc)
    else:
        raise AssertionError("training on one intent must fail")
    knn_config = {**config, "knn_weight": 1.0, "knn_k": 2}
    knn_resource = Resource("clf_knn")
    knn = LinearIntentClassifier.create(knn_config, storage, knn_resource, _context("knn"))
    knn.train(train)
    assert knn.memory is not None and clf.memory is None
    with_memory = knn.predict_proba(probes)
    assert [knn.classes[i] for i in with_memory.argmax(axis=1)] == predicted
    assert not np.allclose(with_memory, clf.predict_proba(probes)), "the memory changes scores"
    knn_loaded = LinearIntentClassifier.load(knn_config, storage, knn_resource, _context("knn"))
    assert knn_loaded.memory is not None and knn_loaded.knn_weight == knn.knn_weight == 1.0
    choose = {**knn_config, "knn_weight": [0.0, 0.5, 1.0]}
    chooser = LinearIntentClassifier.create(choose, storage, Resource("c"), _context("c"))
    chooser.train(train)
    assert chooser.knn_weight in (0.0, 0.5, 1.0)
    assert (chooser.memory is None) == (chooser.knn_weight == 0.0)
    assert np.allclose(knn_loaded.predict_proba(probes), with_memory, atol=1e-6)
    return {"predicted": predicted, "temperature": clf.temperature}


def check_gazetteer(tmp: Path) -> dict[str, Any]:
    """spaCy PhraseMatcher names: longest match, "Corp."/"Inc." at a sentence end, products,
    spans on Rasa's tokens, CRF overlaps replaced, and persist -> load gives the same."""
    (tmp / "storage").mkdir()
    storage = LocalModelStorage(tmp / "storage")
    path = tmp / "gazetteer.json"
    names = {
        "account": ["Acme Corp", "Acme", "Blue Harbor Bank", "Globex Inc"],
        "product": ["Label printer LP-4", "Analytics add-on"],
        "ignored": ["summary"],  # an entity the config does not ask for
    }
    path.write_text(json.dumps(names))
    data = TrainingData(
        _messages(TRAIN), lookup_tables=[{"name": "account", "elements": ["Initech"]}]
    )
    resource = Resource("gaz")
    config = {"path": str(path), "entities": ["account", "product"]}
    gaz = GazetteerEntityExtractor.create(config, storage, resource, _context("gaz"))
    gaz.train(data)
    texts = [
        "summary for Acme Corp.",
        "how is blue harbor bank doing",
        "deals at initech, please",
        "nothing here",
        "Globex Inc. wants the analytics add-on",
        "i'm interested in the label printer lp-4.",
        "is that a non-Acme deal or GLOBEX INC.",
        "log a call with Acme Corp. They asked about Label Printer LP-4",
    ]
    probes = [Message(data={"text": t}) for t in texts]
    crf = [
        {"entity": "account", "value": "Corp.", "start": 17, "end": 22},
        {"entity": "due", "value": "for", "start": 8, "end": 11},  # another type stays
    ]
    probes[0].set("entities", crf)
    probes[5].set("entities", [{"entity": "account", "value": "label", "start": 22, "end": 27}])
    _tokenize(probes)
    gaz.process(probes)
    found = [[(e["entity"], e["value"]) for e in m.get("entities", [])] for m in probes]
    assert found == [
        [("due", "for"), ("account", "Acme Corp")],
        [("account", "blue harbor bank")],
        [("account", "initech")],
        [],
        [("account", "Globex Inc"), ("product", "analytics add-on")],
        [("product", "label printer lp-4")],
        [("account", "GLOBEX INC")],
        [("account", "Acme Corp"), ("product", "Label Printer LP-4")],
    ], found
    for text, message in zip(texts, probes, strict=True):
        for entity in message.get("entities", []):
            assert text[entity["start"] : entity["end"]] == entity["value"], (text, entity)
    # "Corp." and "Inc." stay one token in spaCy's English tokenizer, even at a sentence end.
    nlp = spacy.blank("en")
    assert [t.text for t in nlp.make_doc("a summary of Acme Corp.")][-1] == "Corp."
    assert [t.text for t in nlp.make_doc("ask Globex Inc.")][-1] == "Inc."
    assert set(gaz.names) == {"account", "product"}
    assert "Initech" in gaz.names["account"] and "summary" not in gaz.names["account"]
    loaded = GazetteerEntityExtractor.load(config, storage, resource, _context("gaz"))
    assert loaded.names == gaz.names
    again = [Message(data={"text": t}) for t in texts]
    _tokenize(again)
    loaded.process(again)
    again_found = [[(e["entity"], e["value"]) for e in m.get("entities", [])] for m in again]
    assert again_found[1:] == found[1:], again_found
    assert again_found[0] == [("account", "Acme Corp")]
    try:
        GazetteerEntityExtractor.load(config, storage, Resource("absent"), _context("gaz"))
    except ValueError:
        pass
    else:
        raise AssertionError("loading a model without the gazetteer's names must fail")
    return {"found": found}


CHECKS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "featurizer": check_featurizer,
    "classifier": check_classifier,
    "gazetteer": check_gazetteer,
}


def main() -> None:
    """Run every check in its own temporary folder; print one JSON object."""
    results: dict[str, Any] = {}
    for name, check in CHECKS.items():
        with tempfile.TemporaryDirectory() as tmp:
            try:
                results[name] = {"ok": True, **check(Path(tmp))}
            except Exception:  # noqa: BLE001 - reported to the pytest side with the traceback
                results[name] = {"ok": False, "detail": traceback.format_exc()}
    print(json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
