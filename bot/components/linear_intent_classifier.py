"""A fast linear intent classifier over sparse n-grams + dense sentence features.

Why not DIET: it took ~170 s per epoch on BANKING77 here. A linear SVM over TF-IDF-weighted
n-gram counts plus the MiniLM sentence embedding trains in seconds and, measured on the same
cross-validation folds, is as accurate as fine-tuned BERT on these data sets
(docs/benchmarks.md, NLU). SVM scores are not probabilities, so the component calibrates them:
a softmax with one temperature fitted on out-of-fold scores (minimum log-loss). That makes the
top confidence meaningful for `FallbackClassifier`'s threshold.

Each featurizer's sparse sentence block is weighted on its own (sublinear tf x idf, L2 norm),
as the measured TF-IDF setup did; dense blocks are L2-normalised and scaled by `dense_weight`.
The trained state is plain arrays in one `.npz` (loaded with `allow_pickle=False`): nothing to
unpickle, nothing scikit-learn-version specific.
"""

# Rasa's graph validation compares these annotations with its own `typing.List` ones.
# ruff: noqa: UP006, UP035, UP019, UP045, UP037

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
import scipy.sparse as sp
from components.class_memory import ClassMemory
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

_TEMPERATURES = np.exp(np.linspace(np.log(0.5), np.log(60.0), 60))


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large scores."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, targets: np.ndarray) -> float:
    """The temperature T minimising the log-loss of softmax(T * scores) on held-out rows."""
    rows = np.arange(len(targets))
    losses = [-np.log(softmax(t * scores)[rows, targets] + 1e-12).mean() for t in _TEMPERATURES]
    return float(_TEMPERATURES[int(np.argmin(losses))])


def _blocks(message: Message) -> List[Tuple[Text, bool, Any]]:
    """(origin, is_sparse, 1-row matrix) for every sentence feature of the text."""
    out = []
    for feature in message.features:
        if feature.attribute == TEXT and feature.type == FEATURE_TYPE_SENTENCE:
            origin = feature.origin if isinstance(feature.origin, str) else "+".join(feature.origin)
            out.append((origin, feature.is_sparse(), feature.features))
    return sorted(out, key=lambda block: block[0])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(IntentClassifier, GraphComponent):
    """Linear SVM on weighted sparse + dense sentence features, temperature-calibrated."""

    @classmethod
    def required_components(cls) -> List[type]:
        """Needs at least one featurizer before it."""
        return [Featurizer]

    @staticmethod
    def required_packages() -> List[Text]:
        """scikit-learn fits the SVM; prediction is plain numpy/scipy."""
        return ["sklearn"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Defaults chosen by cross-validation on BANKING77 train (docs/nlu.md)."""
        return {
            "C": 0.5,  # SVM regularisation
            "dense_weight": 1.0,  # scale of each L2-normalised dense block
            "calibration_folds": 3,  # out-of-fold scores for the temperature
            "max_iter": 2000,
            "random_state": 42,
            "ranking_length": 10,
            # Nearest-example evidence added to the SVM scores (class_memory.py); 0 = off.
            # A list: the weight with the best out-of-fold accuracy on the training data.
            "knn_weight": 0.0,
            "knn_k": 3,
            # Leading columns of each dense block the memory keeps (0 = all): 384 keeps the
            # MiniLM embedding and drops the inner-layer columns (class_memory.py says why).
            "knn_dense_dims": 0,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        name: Text,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        """Untrained component; `train` or `load` fill the arrays."""
        self.name = name
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.classes: Optional[np.ndarray] = None
        self.coef: Optional[np.ndarray] = None
        self.intercept: Optional[np.ndarray] = None
        self.temperature = 1.0
        self.knn_weight = 0.0
        self.layout: List[Tuple[Text, bool]] = []
        self.idf: Dict[Text, np.ndarray] = {}
        self.widths: Dict[Text, int] = {}
        self._coef_blocks: Optional[List[np.ndarray]] = None
        self.memory: Optional[ClassMemory] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LinearIntentClassifier":
        """A new untrained classifier."""
        return cls(config, execution_context.node_name, model_storage, resource)

    # -- features -------------------------------------------------------------------------

    def _raw_blocks(self, messages: List[Message]) -> Dict[Text, Any]:
        """Stack each origin's rows at its trained width; a missing block gives zeros."""
        per_message = [{o: m for o, _, m in _blocks(msg)} for msg in messages]
        stacked: Dict[Text, Any] = {}
        for origin, is_sparse in self.layout:
            width = self.widths[origin]
            rows = []
            for pm in per_message:
                row = pm.get(origin)
                if row is None or row.shape[1] != width:
                    row = sp.csr_matrix((1, width)) if is_sparse else np.zeros((1, width))
                rows.append(row)
            if is_sparse and len(rows) == 1:
                stacked[origin] = sp.csr_matrix(rows[0])
            elif is_sparse:
                stacked[origin] = sp.vstack([sp.csr_matrix(r) for r in rows]).tocsr()
            else:
                stacked[origin] = np.vstack([np.asarray(r, dtype=np.float64) for r in rows])
        return stacked

    def _weighted_blocks(self, messages: List[Message]) -> List[Any]:
        """Per-block TF-IDF rows (sparse) and scaled unit rows (dense), in layout order."""
        out: List[Any] = []
        for origin, block in self._raw_blocks(messages).items():
            if sp.issparse(block):
                out.append(_tfidf_rows(block, self.idf.get(origin)))
            else:
                norms = np.linalg.norm(block, axis=1, keepdims=True)
                out.append(block / np.clip(norms, 1e-12, None) * float(self.config["dense_weight"]))
        return out

    @staticmethod
    def _matrix(blocks: List[Any]) -> sp.csr_matrix:
        """The whole design matrix (training): the weighted blocks side by side."""
        return sp.hstack([b if sp.issparse(b) else sp.csr_matrix(b) for b in blocks]).tocsr()

    def _fit_idf(self, messages: List[Message]) -> None:
        self.idf = {}
        for origin, block in self._raw_blocks(messages).items():
            if sp.issparse(block):
                df = np.asarray((block > 0).sum(axis=0)).ravel()
                self.idf[origin] = np.log((1.0 + block.shape[0]) / (1.0 + df)) + 1.0

    # -- training -------------------------------------------------------------------------

    def _svm(self) -> Any:
        from sklearn.svm import LinearSVC

        # Every parameter pinned so a scikit-learn upgrade cannot change the model silently.
        return LinearSVC(
            C=float(self.config["C"]),
            loss="squared_hinge",
            penalty="l2",
            dual=True,
            tol=1e-4,
            multi_class="ovr",
            fit_intercept=True,
            intercept_scaling=1,
            class_weight=None,
            max_iter=int(self.config["max_iter"]),
            random_state=int(self.config["random_state"]),
        )

    def _block_weights(self) -> List[np.ndarray]:
        """The coefficient columns of each block, transposed (width x classes), cached."""
        if self._coef_blocks is None:
            self._coef_blocks, offset = [], 0
            for origin, _ in self.layout:
                width = self.widths[origin]
                columns = self.coef[:, offset : offset + width]
                self._coef_blocks.append(np.ascontiguousarray(columns.T))
                offset += width
        return self._coef_blocks

    def _scores(self, messages: List[Message]) -> np.ndarray:
        """SVM scores block by block: no design matrix is built for a single message."""
        scores = np.tile(self.intercept, (len(messages), 1))
        blocks = self._weighted_blocks(messages)
        for block, weights in zip(blocks, self._block_weights(), strict=True):
            scores += np.asarray(block @ weights)
        if self.memory is not None:
            scores += self.knn_weight * self.memory.scores(blocks)
        return scores

    def train(self, training_data: TrainingData) -> Resource:
        """Fit idf weights, the SVM and the calibration temperature, then persist."""
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        labels = sorted({e.get(INTENT) for e in examples})
        if len(labels) < 2:
            raise ValueError(
                f"LinearIntentClassifier needs at least two intents, got {labels or 'none'}"
            )
        self.widths = {o: m.shape[1] for e in examples for o, _, m in _blocks(e)}
        if not self.widths:
            raise ValueError("LinearIntentClassifier found no sentence features: add a featurizer")
        self.layout = sorted({(o, s) for e in examples for o, s, _ in _blocks(e)})
        self._fit_idf(examples)
        blocks = self._weighted_blocks(examples)
        X = self._matrix(blocks)
        self.classes = np.array(labels)
        index = {label: i for i, label in enumerate(labels)}
        y = np.array([index[e.get(INTENT)] for e in examples])
        self.knn_weight, self.temperature = self._calibrate(X, blocks, y)
        svm = self._svm().fit(X, y)
        self.coef, self.intercept = self._full_coef(svm, len(labels))
        self.memory = self._memory(blocks, y) if self.knn_weight > 0 else None
        self._coef_blocks = None
        self.persist()
        return self._resource

    def _full_coef(self, svm: Any, n_classes: int) -> Tuple[np.ndarray, np.ndarray]:
        """Coefficients with one row per class (a fold may miss classes: they never win)."""
        coef = np.zeros((n_classes, svm.coef_.shape[1]))
        intercept = np.full(n_classes, -1e3)
        fitted = svm.classes_
        if n_classes == 2 and len(fitted) == 2:
            coef[1], intercept[1] = svm.coef_[0], svm.intercept_[0]
            coef[0], intercept[0] = -svm.coef_[0], -svm.intercept_[0]
            return coef, intercept
        coef[fitted] = svm.coef_
        intercept[fitted] = svm.intercept_
        return coef, intercept

    def _knn_candidates(self) -> List[float]:
        value = self.config["knn_weight"]
        weights = value if isinstance(value, (list, tuple)) else [value]
        return sorted({max(0.0, float(w)) for w in weights})

    def _memory(self, blocks: List[Any], y: np.ndarray) -> ClassMemory:
        """The nearest-example memory over `blocks`' rows."""
        dims = int(self.config["knn_dense_dims"]) or None
        return ClassMemory(blocks, y, len(self.classes), int(self.config["knn_k"]), dims)

    def _calibrate(self, X: sp.csr_matrix, blocks: List[Any], y: np.ndarray) -> Tuple[float, float]:
        """The memory's weight and the softmax temperature, from out-of-fold scores.

        The weight is the candidate with the best out-of-fold accuracy (ties: the smaller):
        neighbours help where an intent has several phrasings (BANKING77) and can hurt where
        messages differ mostly by names (the bot's own data), so the data decides.
        """
        from sklearn.model_selection import StratifiedKFold

        candidates = self._knn_candidates()
        folds = min(int(self.config["calibration_folds"]), int(np.bincount(y).min()))
        if folds < 2:
            logger.debug("Too few examples per intent to calibrate; temperature stays 1.")
            return candidates[-1], 1.0
        n_classes = len(self.classes)
        oof = np.zeros((X.shape[0], n_classes))
        knn = np.zeros((X.shape[0], n_classes))
        seed = int(self.config["random_state"])
        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
        for train_idx, test_idx in splitter.split(np.zeros(len(y)), y):
            svm = self._svm().fit(X[train_idx], y[train_idx])
            coef, intercept = self._full_coef(svm, n_classes)
            oof[test_idx] = np.asarray(X[test_idx] @ coef.T) + intercept
            if candidates[-1] > 0:
                memory = self._memory([b[train_idx] for b in blocks], y[train_idx])
                knn[test_idx] = memory.scores([b[test_idx] for b in blocks])
        accuracy = [((oof + w * knn).argmax(axis=1) == y).mean() for w in candidates]
        weight = candidates[int(np.argmax(accuracy))]
        logger.info(
            "LinearIntentClassifier: out-of-fold accuracy %s for memory weights %s; using %s",
            [round(float(a), 4) for a in accuracy],
            candidates,
            weight,
        )
        return weight, fit_temperature(oof + weight * knn, y)

    # -- inference ------------------------------------------------------------------------

    def predict_proba(self, messages: List[Message]) -> np.ndarray:
        """Calibrated class probabilities, one row per message, columns as `classes`."""
        return softmax(self.temperature * self._scores(messages))

    def process(self, messages: List[Message]) -> List[Message]:
        """Set `intent` and `intent_ranking` (sorted, at most `ranking_length` entries)."""
        if self.classes is None or not messages:
            return messages
        probs = self.predict_proba(messages)
        length = int(self.config["ranking_length"])
        for message, row in zip(messages, probs, strict=True):
            order = np.argsort(-row, kind="stable")
            if length > 0:
                order = order[:length]
            ranking = [{"name": str(self.classes[i]), "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing later in the pipeline needs training-time intent predictions."""
        return training_data

    # -- persistence ----------------------------------------------------------------------

    def persist(self) -> None:
        """Write the arrays to `<resource>.npz` in the model storage."""
        arrays: Dict[Text, np.ndarray] = {
            "classes": self.classes.astype(str),
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float64),
            "temperature": np.array([self.temperature]),
            "knn_weight": np.array([self.knn_weight]),
            "layout_origin": np.array([o for o, _ in self.layout], dtype=str),
            "layout_sparse": np.array([s for _, s in self.layout], dtype=bool),
            "layout_width": np.array([self.widths[o] for o, _ in self.layout], dtype=np.int64),
        }
        for i, (origin, _) in enumerate(self.layout):
            if origin in self.idf:
                arrays[f"idf_{i}"] = self.idf[origin]
        if self.memory is not None:
            arrays.update(self.memory.to_arrays())
        with self._model_storage.write_to(self._resource) as folder:
            np.savez(folder / f"{self._resource.name}.npz", **arrays)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LinearIntentClassifier":
        """Load the arrays; a missing file raises (never a silently untrained model)."""
        component = cls(config, execution_context.node_name, model_storage, resource)
        with (
            model_storage.read_from(resource) as folder,
            np.load(folder / f"{resource.name}.npz", allow_pickle=False) as data,
        ):
            component.classes = data["classes"]
            component.coef = data["coef"].astype(np.float64)
            component.intercept = data["intercept"]
            component.temperature = float(data["temperature"][0])
            component.knn_weight = float(data["knn_weight"][0]) if "knn_weight" in data else 0.0
            component.layout = [
                (str(o), bool(s))
                for o, s in zip(data["layout_origin"], data["layout_sparse"], strict=True)
            ]
            component.widths = {
                str(o): int(w)
                for o, w in zip(data["layout_origin"], data["layout_width"], strict=True)
            }
            component.idf = {
                origin: data[f"idf_{i}"]
                for i, (origin, _) in enumerate(component.layout)
                if f"idf_{i}" in data
            }
            if "mem_meta" in data:
                component.memory = ClassMemory.from_arrays(data)
        return component


def _tfidf_rows(block: sp.csr_matrix, idf: Optional[np.ndarray]) -> sp.csr_matrix:
    """Sublinear tf (1 + log count) x idf, each row scaled to unit length (plain numpy)."""
    block = sp.csr_matrix(block, dtype=np.float64, copy=True)
    block.sum_duplicates()
    data = np.where(block.data > 0, 1.0 + np.log(np.maximum(block.data, 1e-12)), 0.0)
    if idf is not None and idf.shape[0] == block.shape[1]:
        data *= idf[block.indices]
    lengths = np.diff(block.indptr)
    rows = np.repeat(np.arange(block.shape[0]), lengths)
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=block.shape[0]))
    block.data = data / np.clip(norms, 1e-12, None)[rows]
    return block
