"""Prompt rendering: what the model reads about each source."""

from __future__ import annotations

from rag.prompts import HEADER_TITLE_WORDS, source_header


def test_source_header_names_the_publisher_and_keeps_long_headlines_short() -> None:
    headline = "Donald Trump urged an immediate ceasefire and the start of negotiations between Ukraine and Russia"
    header = source_header(headline, "cnn.com")
    assert header.endswith("(cnn.com)")
    assert len(header.split()) == HEADER_TITLE_WORDS + 1 and "…" in header
    assert source_header("Port closes", "Ouest-France") == "Port closes (Ouest-France)"
    assert source_header("Ouest-France: port closes", "Ouest-France") == "Ouest-France: port closes"
