"""The typed qualifier mismatch (``eval.bench.qualifiers``): does the evidence speak of another thing?"""

from __future__ import annotations

from eval.bench.qualifiers import speaks_of_another


def test_a_sentence_on_another_year_speaks_of_another_thing() -> None:
    question = "How many people died in speed-related crashes in 2013?"
    assert speaks_of_another(question, "In 2011, speed-related crashes killed 10,001 people.", "10,001")
    assert not speaks_of_another(question, "In 2013, speed-related crashes killed 9,613 people.", "9,613")


def test_a_sentence_on_another_country_speaks_of_another_thing() -> None:
    question = "By how much did China's carbon emissions grow between 2007 and 2013?"
    sibling = "Emissions in the United States fell by 10% between 2007 and 2013, the agency said."
    assert speaks_of_another(question, sibling, "10%")


def test_a_sentence_holding_every_asked_name_is_about_the_asked_thing() -> None:
    """Asked who, the sentence names the answer and its title, names the question lacks: every name the
    question asks about is there, so nothing is flagged."""
    question = "Which Russian official accused Ukraine of sending drones at Putin's residence?"
    evidence = "Russian Foreign Minister Sergei Lavrov accused Ukraine of sending 91 drones at Putin's residence."
    assert not speaks_of_another(question, evidence, "Sergei Lavrov")


def test_the_short_answer_is_no_other_thing() -> None:
    """The missing year is flagged only when the sentence holds another number than the answer's own."""
    question = "How many people died in speed-related crashes in 2013?"
    assert not speaks_of_another(question, "Speed-related crashes killed 9,613 people.", "9,613")


def test_a_question_without_names_or_numbers_is_never_flagged() -> None:
    assert not speaks_of_another("How did the prime minister react to the vote?", "Smith said in 1999 he was sad.")
