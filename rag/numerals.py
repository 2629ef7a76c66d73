"""Numbers written in words, read as digits: what lets the number guard compare "22" with "Twenty-two".

An answer never states a number its evidence does not hold (``citations.unsupported_facts``,
``evidence.short_answer_gap``). Articles spell many numbers out, so the guard reads them as digits too.
It used to read number words one at a time from an English list: "Twenty-two buffalo escaped" held
only "2" (the word "two"), so an answer of "2 buffalo" passed and "22" was refused, and "Fifteen" held
nothing (news_dev, 2026-12-04). text2num reads whole spelled numbers, in the eight languages it knows
(``SPELLED_LANGUAGES``); in others a spelled number stays a word (the digits an article writes still count).
"""

from __future__ import annotations

import re
from functools import lru_cache

from text_to_num import alpha2digit

from rag.languages import question_language
from rag.text import numbers

SPELLED_LANGUAGES = frozenset({"en", "fr", "es", "pt", "de", "nl", "da", "it"})  # text2num 3.x
# text2num leaves "a three-year deal" and "forty-five-year-old" alone: a hyphen between two words is
# read as a space first ("Twenty-two" is read whole either way).
_HYPHEN_BETWEEN_WORDS = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")


@lru_cache(maxsize=4096)
def spelled_numbers(text: str) -> frozenset[str]:
    """The numbers ``text`` spells out, as digits without separators ("Twenty-two" -> "22", "a
    three-year deal" -> "3", "vingt-deux" -> "22"), in the text's language when text2num knows it.

    Isolated small numbers count too ("one of them" -> "1"): the guard asks whether evidence holds a
    number, and a sentence about "six former students" holds 6."""
    language = question_language(text)
    if language not in SPELLED_LANGUAGES:
        return frozenset()
    digits = alpha2digit(_HYPHEN_BETWEEN_WORDS.sub(" ", text), language, threshold=0)
    return frozenset(numbers(digits) - numbers(text))
