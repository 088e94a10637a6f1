"""Exact-name entity extraction from a gazetteer built from the CRM store (spaCy PhraseMatcher).

The CRF guesses entity spans from context; a known account or product name should be found
even in a sentence the CRF never saw. `crm_cli.rasa_model` writes `var/nlu/gazetteer.json`
(`{"account": ["Acme Corp", ...], "product": ["Label printer LP-4", ...]}`) from the store
before training; names also come from the training data's lookup tables of the same entity.

Matching is spaCy's `PhraseMatcher` on the `LOWER` attribute over `spacy.blank("en")` (the
English tokenizer only: no model, nothing downloaded). Its tokenizer exceptions keep "Corp."
and "Inc." one token, also at a sentence end, so a name gets a second pattern ending in "."
wherever the tokenizer glues that dot to the last word: "Acme Corp." then matches as one name
and the sentence's full stop is not mistaken for part of another token. Of overlapping matches
the longest wins (`filter_spans`).

spaCy's character spans are mapped back onto the message text for Rasa: a match must begin
where one of Rasa's tokens begins (no names inside a hyphenated word), and the entity ends at
the name's last character, without a trailing full stop or comma ("Acme Corp." gives the
value "Acme Corp" with the end before the dot, as the whitespace tokenizer's token does).
A gazetteer span replaces any overlapping span that an earlier extractor found for one of the
gazetteer's entity types (one value per slot, with the exact name's boundaries).
"""

# Rasa's graph validation compares these annotations with its own `typing.List` ones.
# ruff: noqa: UP006, UP035, UP019, UP045, UP037

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Text

import spacy
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
from spacy.matcher import PhraseMatcher
from spacy.util import filter_spans

logger = logging.getLogger(__name__)

_TRAILING = ".,;:!?"


class PhraseGazetteer:
    """Longest, case-insensitive, non-overlapping matches of known names in a text."""

    def __init__(self, names: Dict[Text, Iterable[Text]], min_chars: int = 3) -> None:
        """Build one PhraseMatcher rule per entity from `names` (entity -> names)."""
        self.nlp = spacy.blank("en")
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.patterns = 0
        for entity, values in names.items():
            forms = sorted({v.strip() for v in values if len(v.strip()) >= min_chars})
            docs = []
            for form in forms:
                doc = self.nlp.make_doc(form)
                docs.append(doc)
                dotted = self.nlp.make_doc(f"{form}.")
                if not form.endswith(".") and len(dotted) == len(doc):
                    docs.append(dotted)  # "Corp." is one token: match it at a sentence end too
            if docs:
                self.matcher.add(entity, docs)
                self.patterns += len(docs)

    def find(self, text: Text) -> List[Dict[Text, Any]]:
        """(entity, start, end, value) of every match; ends exclude trailing punctuation."""
        doc = self.nlp.make_doc(text)
        spans = filter_spans(self.matcher(doc, as_spans=True))
        found = []
        for span in sorted(spans, key=lambda s: s.start_char):
            start, end = span.start_char, span.end_char
            while end > start and text[end - 1] in _TRAILING:
                end -= 1
            if end > start:
                found.append(
                    {"entity": span.label_, "start": start, "end": end, "value": text[start:end]}
                )
        return found


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class GazetteerEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Finds known names (accounts, products) with spaCy's PhraseMatcher; exact, any case."""

    @classmethod
    def required_components(cls) -> List[type]:
        """Rasa's tokens decide where an entity may begin."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """`path`: gazetteer JSON (relative to Rasa's cwd); `entities`: which ones to use."""
        return {
            "path": "../var/nlu/gazetteer.json",
            "entities": ["account", "product"],
            "min_chars": 3,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        name: Text,
        model_storage: ModelStorage,
        resource: Resource,
        names: Optional[Dict[Text, List[Text]]] = None,
    ) -> None:
        """Build the matcher from `names` (entity -> names)."""
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._use(names or {})

    def _use(self, names: Dict[Text, List[Text]]) -> None:
        self.names = names
        self._gazetteer = PhraseGazetteer(names, int(self.config["min_chars"]))

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
        self._use({entity: sorted(values) for entity, values in sorted(names.items())})
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
        """Entity dicts for every longest, non-overlapping name that starts a Rasa token."""
        text = message.get(TEXT) or ""
        if not text:
            return []
        tokens = message.get(TOKENS_NAMES[TEXT])
        starts = {t.start for t in tokens} if tokens else None
        return [
            {**hit, "confidence": 1.0, "extractor": self.name}
            for hit in self._gazetteer.find(text)
            if starts is None or hit["start"] in starts
        ]

    def process(self, messages: List[Message]) -> List[Message]:
        """Add gazetteer entities, dropping overlapping ones of the same types found earlier."""
        types = set(self.config["entities"])
        for message in messages:
            found = self.match(message)
            if not found:
                continue
            kept = [
                e
                for e in message.get(ENTITIES, [])
                if not (
                    e.get("entity") in types
                    and any(
                        e.get("start", -1) < f["end"] and f["start"] < e.get("end", -1)
                        for f in found
                    )
                )
            ]
            message.set(ENTITIES, kept + found, add_to_output=True)
        return messages
