"""Prompt rendering: what the model reads about each source."""

from __future__ import annotations

from rag import prompts
from rag.prompts import HEADER_TITLE_WORDS, source_header


def test_source_header_names_the_publisher_and_keeps_long_headlines_short() -> None:
    headline = "Donald Trump urged an immediate ceasefire and the start of negotiations between Ukraine and Russia"
    header = source_header(headline, "cnn.com")
    assert header.endswith("(cnn.com)")
    assert len(header.split()) == HEADER_TITLE_WORDS + 1 and "…" in header
    assert source_header("Port closes", "Ouest-France") == "Port closes (Ouest-France)"
    assert source_header("Ouest-France: port closes", "Ouest-France") == "Ouest-France: port closes"


def test_the_likelihood_s_chat_is_the_start_of_the_second_look_s_word_for_word() -> None:
    """What lets llama.cpp reuse the look's KV cache for the likelihood made right after it (session 35:
    0.27 s against 2.10 s): the same system prompt, and the look's question text continuing the
    likelihood's user turn. A question with stray whitespace reads the same in both."""
    from rag.likelihood import evidence_messages

    passage, question = "Paris summit: Macron hosted Trump and Zelensky at the Elysee Palace.", " Where did they meet?\n"
    look, likelihood = prompts.verify_messages(passage, question), evidence_messages(question, passage)
    assert look[0] == likelihood[0]
    assert look[1]["content"].startswith(likelihood[1]["content"])
    assert likelihood[1]["content"].endswith("Question: Where did they meet?")
    assert look[1]["content"].endswith("Reply yes or no.")
