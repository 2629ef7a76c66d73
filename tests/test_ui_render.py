"""What the chat shows under an answer, as a pure function of the engine's Answer."""

from __future__ import annotations

from rag import Answer
from ui.render import answer_markdown


def test_the_chat_shows_how_sure_the_answerer_was() -> None:
    sure = Answer(text="It closed [1].", refused=False, backend="local", model="qwen", confidence=0.87)
    assert "confidence 0.87" in answer_markdown(sure)
    unmeasured = Answer(text="It closed [1].", refused=False, backend="openai", model="m", confidence=None)
    assert "confidence" not in answer_markdown(unmeasured)
