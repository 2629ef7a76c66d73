"""Spelled-out numbers, read whole: the guard that an answer's numbers are in its evidence (rag.numerals)."""

from __future__ import annotations

from rag.citations import support_score, unsupported_facts
from rag.evidence import short_answer_gap
from rag.numerals import spelled_numbers

BUFFALO = ("Twenty-two buffalo escaped from the farm on Thursday. Fifteen buffalo were shot and killed on "
           "Friday after a chase through five jurisdictions.")


def test_a_compound_number_is_read_whole_not_word_by_word() -> None:
    assert spelled_numbers("Twenty-two buffalo escaped") == {"22"}
    assert spelled_numbers("Fifteen buffalo were shot") == {"15"}
    assert spelled_numbers("the former Hearts boss was given a three-year deal") == {"3"}
    assert spelled_numbers("a forty-five-year-old man") == {"45"}


def test_numbers_spelled_in_other_languages_are_read_in_theirs() -> None:
    assert "22" in spelled_numbers("Vingt-deux bisons se sont échappés de la ferme jeudi.")
    assert "15" in spelled_numbers("Fünfzehn Büffel wurden am Freitag erschossen.")
    assert "22" in spelled_numbers("Veintidós búfalos escaparon de la granja el jueves.")


def test_digits_already_written_are_not_reported_as_spelled() -> None:
    assert spelled_numbers("The fine was $16,500 in 2015, paid by 12 people.") == set()


def test_a_short_answer_dropping_the_tens_is_refused_and_the_right_number_kept() -> None:
    question = "How many buffalo escaped from the farm?"
    assert short_answer_gap("2 buffalo", question, BUFFALO) != ""
    assert short_answer_gap("22 buffalo", question, BUFFALO) == ""
    assert short_answer_gap("15", "How many buffalo were shot?", BUFFALO) == ""


def test_an_answer_sentence_stating_a_spelled_number_is_backed_by_its_evidence() -> None:
    assert unsupported_facts("22 buffalo escaped on Thursday.", BUFFALO) == []
    assert unsupported_facts("2 buffalo escaped on Thursday.", BUFFALO) == ["2"]
    assert support_score("15 buffalo were shot on Friday", BUFFALO) > 0.5
    assert support_score("5 buffalo were shot on Friday", BUFFALO) > 0.5  # "five jurisdictions": a 5 it holds
    assert support_score("25 buffalo were shot on Friday", BUFFALO) == 0.0
