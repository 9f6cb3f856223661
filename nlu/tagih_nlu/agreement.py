"""A second, different classifier whose opinion is blended with DIET's.

DIET is sure of itself even when it is wrong (most of its mistakes on third-party messages came with
confidence >= 0.9). A logistic regression on the same sparse features errs differently; averaging the
two keeps agreement confident and turns disagreement into low confidence, which the
FallbackClassifier after it then catches.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from tagih_nlu.blend import blend, hold_back

SHOWN = 10  # how many intents the ranking keeps in Rasa's output


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class AgreementClassifier(LogisticRegressionClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # strict: intents that stop collection or contact, with the confidence they need; below it
        # the turn becomes nlu_fallback (the dialogue asks) instead of acting on a guess
        return {**LogisticRegressionClassifier.get_default_config(), "ranking_length": 0, "weight": 0.5, "strict": {}}

    def process(self, messages: List[Message]) -> List[Message]:
        earlier = [message.get(INTENT_RANKING_KEY) or [] for message in messages]
        messages = super().process(messages)
        for message, ranking in zip(messages, earlier):
            if not ranking:
                continue
            combined = blend(ranking, message.get(INTENT_RANKING_KEY) or [], float(self.config["weight"]))
            combined = hold_back(combined, dict(self.config["strict"] or {}))
            message.set(INTENT, combined[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, combined[:SHOWN], add_to_output=True)
        return messages
