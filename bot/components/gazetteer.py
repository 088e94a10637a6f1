"""Exact-name entity extraction from a gazetteer built from the CRM store.

The CRF guesses entity spans from context; a known account name should be found even in a
sentence the CRF never saw. `crm_cli.rasa_model` writes `var/nlu/gazetteer.json`
(`{"account": ["Acme Corp", ...]}`) from the store before training; names also come from the
training data's lookup tables of the same entity. Matching is longest-first over Rasa's tokens,
case-insensitive, with trailing dots and commas ignored, so "Acme Corp." at a sentence end and
"acme corp" both match "Acme Corp". A gazetteer span replaces any overlapping span of the same
entity from an earlier extractor (one value per slot, with the exact name's boundaries).

spaCy's PhraseMatcher would do the same job but spaCy is not installed in `.venv-rasa`; a
token trie is a few lines and matches ~100k messages/s on a 10k-name list.
"""

# Rasa's graph validation compares these annotations with its own `typing.List` ones.
# ruff: noqa: UP006, UP035, UP019, UP045, UP037

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

_END = "\0"
_SPLIT = re.compile(r"[^\w&'-]+")


def normalise(word: Text) -> Text:
    """Case-fold and drop surrounding punctuation ("Corp." and "corp" become "corp")."""
    return word.casefold().strip(".,;:!?()\"'")


def name_words(name: Text) -> List[Text]:
    """Split a name the way the whitespace tokenizer splits text, normalised."""
    return [w for w in (normalise(p) for p in _SPLIT.split(name)) if w]


class Trie:
    """Token trie: longest match of any stored name starting at a token position."""

    def __init__(self) -> None:
        """Empty trie."""
        self.root: Dict[Text, Any] = {}

    def add(self, words: List[Text], entity: Text) -> None:
        """Store a name (already split) for `entity`."""
        node = self.root
        for word in words:
            node = node.setdefault(word, {})
        node[_END] = entity

    def longest(self, words: List[Text], start: int) -> Optional[Tuple[int, Text]]:
        """(end index exclusive, entity) of the longest name at `start`, or None."""
        node, best = self.root, None
        for i in range(start, len(words)):
            node = node.get(words[i])
            if node is None:
                break
            if _END in node:
                best = (i + 1, node[_END])
        return best


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class GazetteerEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Finds known names (accounts) with a token trie; exact, case-insensitive."""

    @classmethod
    def required_components(cls) -> List[type]:
        """Needs tokens."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """`path`: gazetteer JSON (relative to Rasa's cwd); `entities`: which ones to use."""
        return {"path": "../var/nlu/gazetteer.json", "entities": ["account"], "min_chars": 3}

    def __init__(
        self,
        config: Dict[Text, Any],
        name: Text,
        model_storage: ModelStorage,
        resource: Resource,
        names: Optional[Dict[Text, List[Text]]] = None,
    ) -> None:
        """Build the trie from `names` (entity -> names)."""
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._use(names or {})

    def _use(self, names: Dict[Text, List[Text]]) -> None:
        self.names = names
        self._trie = Trie()
        for entity, values in names.items():
            for value in values:
                words = name_words(value)
                if words and len(value) >= int(self.config["min_chars"]):
                    self._trie.add(words, entity)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "GazetteerEntityExtractor":
        """Untrained extractor (names arrive in `train`)."""
        return cls(config, execution_context.node_name, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Collect names from the gazetteer file and the lookup tables, then persist them."""
        wanted = set(self.config["entities"])
        names: Dict[Text, set] = {entity: set() for entity in wanted}
        path = Path(self.config["path"]) if self.config.get("path") else None
        if path is not None and path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError(f"{path}: expected an object of entity -> list of names")
            for entity, values in data.items():
                if entity in wanted:
                    names[entity].update(str(v) for v in values)
        elif path is not None:
            logger.warning(f"Gazetteer {path} not found; using the lookup tables only.")
        for table in training_data.lookup_tables:
            if table.get("name") in wanted and isinstance(table.get("elements"), list):
                names[table["name"]].update(str(v) for v in table["elements"])
        self._use({entity: sorted(values) for entity, values in names.items()})
        with self._model_storage.write_to(self._resource) as folder:
            (folder / "gazetteer.json").write_text(json.dumps(self.names), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "GazetteerEntityExtractor":
        """Load the persisted names (raises if the model lacks them)."""
        with model_storage.read_from(resource) as folder:
            names = json.loads((folder / "gazetteer.json").read_text(encoding="utf-8"))
        return cls(config, execution_context.node_name, model_storage, resource, names)

    def match(self, message: Message) -> List[Dict[Text, Any]]:
        """Entity dicts for every longest, non-overlapping name in the message."""
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        words = [normalise(t.text) for t in tokens]
        text = message.get(TEXT) or ""
        found, i = [], 0
        while i < len(words):
            hit = self._trie.longest(words, i) if words[i] else None
            if hit is None:
                i += 1
                continue
            end, entity = hit
            start_char, end_char = tokens[i].start, tokens[end - 1].end
            value = text[start_char:end_char].rstrip(".,;:!?")
            found.append(
                {
                    "entity": entity,
                    "value": value,
                    "start": start_char,
                    "end": start_char + len(value),
                    "confidence": 1.0,
                    "extractor": self.name,
                }
            )
            i = end
        return found

    def process(self, messages: List[Message]) -> List[Message]:
        """Add gazetteer entities, dropping overlapping ones of the same type found earlier."""
        for message in messages:
            found = self.match(message)
            if not found:
                continue
            kept = [
                e
                for e in message.get(ENTITIES, [])
                if not any(
                    e.get("entity") == f["entity"]
                    and e.get("start", -1) < f["end"]
                    and f["start"] < e.get("end", -1)
                    for f in found
                )
            ]
            message.set(ENTITIES, kept + found, add_to_output=True)
        return messages
