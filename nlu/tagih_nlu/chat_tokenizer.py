"""Rasa's whitespace tokenizer whose tokens read chat spelling as standard words.

"udh tf td pagi" is featurized as "sudah transfer tadi pagi"; offsets stay those of the typed text
and the message text is untouched (actions parse what the debtor wrote).
"""

from __future__ import annotations

from typing import List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from tagih_nlu.chat_spelling import normalise_token


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class ChatTokenizer(WhitespaceTokenizer):
    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            # featurizers read the lemma (CountVectorsFeaturizer's default) or the text: both
            token.text = token.lemma = normalise_token(token.text)
        return tokens
