"""Spelled-out numbers read whole, and amounts read with their scale: the guard that an answer's numbers
are in its evidence (rag.numerals)."""

from __future__ import annotations

from rag.citations import support_score, unsupported_facts
from rag.evidence import short_answer_gap
from rag.numerals import quantities, spelled_numbers, unheld_numbers

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


def test_a_magnitude_lost_in_translation_is_refused_and_the_converted_amount_kept() -> None:
    """500亿 is 50 billion: the Chinese scale is 10^8, so "500 billion" states ten times the amount."""
    evidence = "愿给予瑞士500亿元人民币的合格境外投资者配额。"
    assert unheld_numbers("China offered Switzerland 500 billion yuan [1].", evidence) == ["500 billion"]
    assert unheld_numbers("China offered Switzerland 50 billion yuan [1].", evidence) == []
    assert unheld_numbers("500", evidence) == []  # a bare number is still read as its digits
    trade = "Trade rose to 5.5 billion dollars in 2014, from 300 million a decade before."
    assert short_answer_gap("5.5 million dollars", "How large was the trade in 2014?", trade) != ""
    assert short_answer_gap("5.5 billion dollars", "How large was the trade in 2014?", trade) == ""


def test_a_wrong_scale_word_in_english_is_refused() -> None:
    evidence = "The stadium cost $2 billion and seats 1,200,000 fans a year, about three million visits."
    assert unsupported_facts("The stadium cost $2 million.", evidence) == ["2 million"]
    assert unsupported_facts("The stadium cost $2 billion.", evidence) == []
    assert unsupported_facts("It seats 1.2 million fans a year.", evidence) == []
    assert unsupported_facts("It has 3 million visits.", evidence) == []  # spelled in the evidence
    assert unsupported_facts("It has 3000000 visits.", evidence) == []
    assert support_score("The stadium cost $2 million", evidence) == 0.0


def test_scales_are_read_in_the_languages_news_is_written_in() -> None:
    def amounts(text: str) -> set[float]:
        return {float(value) for quantity in quantities(text) for value in quantity.values}

    assert amounts("1億2000万人") == {1.2e8}
    assert amounts("1.5万亿元") == {1.5e12}
    assert amounts("2,5 Milliarden Euro") == {2.5e9}
    assert amounts("3 млрд рублей") == {3e9}
    assert amounts("dos mil millones") == set()  # spelled: spelled_numbers reads it
    assert amounts("2 mil millones de euros") == {2e9, 2e12}  # "mil" is also English slang for a million
    assert amounts("£5m and $40k") == {5e6, 4e4}
    assert amounts("the 100m final, 5千米") == {100, 5}  # metres and kilometres, not scales
    # "billion" is 10^9 in English and 10^12 in French and German: either reading backs the other language
    assert unheld_numbers("1 trillion euros", "1 billion d'euros") == []
    assert unheld_numbers("5 billion roubles", "5 млн рублей") == ["5 billion"]


def test_thousands_grouped_by_a_space_or_a_point_are_one_number() -> None:
    """Polish, French or Russian write "12 500", Indonesian or German "4.200": read as two numbers (or as
    4.2), a wrong "500" passed the guard and a right "12500" or "4,200" was refused."""
    polish = "Ewakuowano 12 500 osób."
    assert unheld_numbers("12,500 people were evacuated", polish) == []
    assert unheld_numbers("500 people were evacuated", polish) == ["500"]
    assert unheld_numbers("4,200 residents fled", "Sebanyak 4.200 warga mengungsi.") == []
    assert unheld_numbers("1.5 million people", "Sebanyak 1,5 juta orang.") == []  # Indonesian's scale word
    # A year before a count and a telephone number stay apart: no English text reads otherwise.
    assert unheld_numbers("500 people died", "In 2019 500 people died.") == []
    assert unheld_numbers("555111", "Call Crimestoppers on 0800 555 111.") == ["555111"]
