"""Follow-up questions: turn "Where did they meet?" into a question retrieval can answer alone."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag import prompts
from rag.errors import RagError
from rag.generation import ChatClient, Message
from rag.languages import written_in_english
from rag.text import word_count

_DEPENDENT = re.compile(r"\b(he|she|they|them|him|her|his|their|theirs|it|its|there|that|this|those|these|"
                        r"the two|both|then|else|more|also)\b", re.I)
MAX_TURN_CHARS = 400  # older turns are clipped: the rewrite prompt must stay cheap


def needs_context(message: str) -> bool:
    """A pronoun, or a message too short to stand alone, depends on the conversation. The pronouns are
    English ones, so a follow-up in another language is always rewritten: "Was hat er über die Züge
    gesagt?" names no one, and the model's rewrite keeps the asker's language."""
    return bool(_DEPENDENT.search(message)) or word_count(message) <= 4 or not written_in_english(message)


def last_user_question(history: Sequence[Message]) -> str:
    return next((turn["content"] for turn in reversed(history) if turn.get("role") == "user"), "")


def standalone_question(history: Sequence[Message], message: str, chat: ChatClient | None) -> str:
    """The message itself when it stands alone; else a rewrite by the model, or the previous question
    prepended when there is no model (keyword and dense search both profit from its names)."""
    message = message.strip()
    if not history or not needs_context(message):
        return message
    previous = last_user_question(history)
    if chat is not None:
        rewritten = _rewrite_with_model(history, message, chat)
        if rewritten:
            return rewritten
    return f"{previous} {message}".strip()


def _rewrite_with_model(history: Sequence[Message], message: str, chat: ChatClient) -> str:
    turns = "\n".join(f"{turn['role']}: {turn['content'][:MAX_TURN_CHARS]}" for turn in history[-4:])
    messages = [{"role": "system", "content": prompts.REWRITE_SYSTEM},
                {"role": "user", "content": prompts.REWRITE_USER.format(history=turns, message=message)}]
    try:
        chat.begin(messages)
        text = "".join(chat.stream(messages, max_tokens=48))
    except RagError:
        return ""  # the answer step will report the backend problem
    line = text.strip().splitlines()[0].strip().strip('"') if text.strip() else ""
    # A rewrite that is a statement, or much longer than a question, is a failed rewrite.
    return line if 3 <= word_count(line) <= 40 else ""
