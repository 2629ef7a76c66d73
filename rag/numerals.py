"""Numbers written in words, read as digits: what lets the number guard compare "22" with "Twenty-two".

An answer never states a number its evidence does not hold (``citations.unsupported_facts``,
``evidence.short_answer_gap``). Articles spell many numbers out, so the guard reads them as digits too.
It used to read number words one at a time from an English list: "Twenty-two buffalo escaped" held
only "2" (the word "two"), so an answer of "2 buffalo" passed and "22" was refused, and "Fifteen" held
nothing (news_dev, 2026-12-04). text2num reads whole spelled numbers, in the eight languages it knows
(``SPELLED_LANGUAGES``); in others a spelled number stays a word (the digits an article writes still count).

An amount is read with its scale (``quantities``): "500 billion" and 500亿 share the digits 500 but not the
amount, and ``unheld_numbers`` is the one check every guard asks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from text_to_num import alpha2digit

from rag.languages import question_language
from rag.text import NUMBER, digits_of, numbers

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


# --- Magnitudes -------------------------------------------------------------------------------------
# "500 billion" and 500亿 (50 billion) both read "500" as digits, so a guard comparing digits passed a
# magnitude lost in translation (English questions over the Chinese archive, session 40), and "$2
# million" for "$2 billion" in English alike. A number's scale word is read with it; a word whose scale
# differs between languages ("billion": 10^9 in English, 10^12 in French and German) keeps both.
# Swahili writes its scale before the number ("Sh bilioni 6.8"), so its words are not read: read after the
# number only, "bilioni" refused a short answer "6.8 bilioni" that reordered it (multilingual holdout 2, w57).
_SCALE_WORDS: dict[str, tuple[int, ...]] = {}
for _words, _powers in (
    ("hundred", (2,)),
    ("thousand thousands tausend duizend mille mila тыс тыс. тысяча тысячи тысяч ألف ribu tys. tys nghìn ngàn "
     "हज़ार हजार χιλιάδες هزار אלף", (3,)),
    ("mil", (3, 6)),  # Spanish and Portuguese 10^3; English slang 10^6
    ("lakh lakhs लाख", (5,)),
    ("crore crores करोड़ करोड", (7,)),
    ("million millions millionen mio mio. mln millón millones milhão milhões milione milioni miljoen "
     "milion miliony milionów млн млн. миллион миллиона миллионов مليون ملايين juta milyon triệu "
     "εκατ. εκατομμύρια εκατομμύριο میلیون מיליון", (6,)),  # not "mn": French minutes,
    ("milliard milliards milliarde milliarden mrd mrd. bn miliardo miliardi miljard miljarden millardo "
     "millardos miliard miliardy miliardów mld bilhão bilhões млрд млрд. миллиард миллиарда миллиардов "
     "مليار مليارات miliar milyar tỷ δισ. δισεκατομμύρια δισεκατομμύριο میلیارد מיליארד", (9,)),
    ("billion billions billionen", (9, 12)),
    ("billón billones bilião biliões trn трлн трлн. триллион триллиона триллионов triliun trilyon", (12,)),
    ("trillion trillions", (12, 18)),
):
    for _word in _words.split():
        _SCALE_WORDS[_word] = _powers
_SCALE_WORD = re.compile(r"[\s\u00a0-]?(" + "|".join(re.escape(w) for w in sorted(_SCALE_WORDS, key=len, reverse=True))
                         + r")(?![^\W\d_])", re.IGNORECASE)
# "£5m", "$40k": a bare m or k is a scale only after a currency sign ("the 100m final" is metres).
_CURRENCY_SCALE = re.compile(r"\s?([mk])(?![^\W\d_])", re.IGNORECASE)
_CURRENCY_BEFORE = re.compile(r"[$£€¥₹]\s?$")
# Chinese, Japanese and Korean write the scale right after the digits, and chain them: 1億2000万 is
# 120,000,000, 1.5万亿 is 1.5 * 10^4 * 10^8. 千 before 米/克/瓦/焦 is the kilo of a unit, not a thousand.
_CJK_UNITS = {"百": 2, "千": 3, "万": 4, "萬": 4, "亿": 8, "億": 8, "천": 3, "만": 4, "억": 8, "조": 12}
_CJK_SCALE = re.compile(r"(?:千(?![米克瓦焦])|[百万萬亿億천만억조])+")
_NUMBER = re.compile(NUMBER)


@dataclass(frozen=True)
class Quantity:
    """A number as a text states it: its digits as ``numbers`` reads them, and the values it can mean."""

    written: str
    digits: str
    values: frozenset[Decimal]
    scaled: bool


def _plain_values(written: str) -> frozenset[Decimal]:
    """The values digits with separators can mean: one, but for a single point or comma before exactly three
    digits, which English reads as thousands ("4,200") and German, Indonesian or Turkish as thousands too
    ("4.200"), while "4,200" is 4.2 in German: both readings, so a right answer in either is held."""
    value = _plain_value(written)
    separators = re.findall(r"[.,]", written)
    if len(separators) == 1 and len(re.split(r"[.,]", written)[-1]) == 3:
        return frozenset({value.normalize(), Decimal(re.sub(r"[.,]", "", written)).normalize(),
                          Decimal(written.replace(",", ".")).normalize()})
    return frozenset({value.normalize()})


def _plain_value(written: str) -> Decimal:
    """The value of digits with separators: "1,500,000" and "1.500.000" are 1500000, "2.5" and "2,5" 2.5;
    "12 500" (grouped by spaces) 12500."""
    written = re.sub(r"\s", "", written)
    separators = re.findall(r"[.,]", written)
    groups = re.split(r"[.,]", written)
    if not separators:
        return Decimal(written)
    last = separators[-1]
    decimal_last = len(set(separators)) > 1 or len(groups[-1]) != 3 or (last == "." and len(separators) == 1)
    if decimal_last:
        whole = "".join(groups[:-1])
        return Decimal(f"{whole}.{groups[-1]}")
    return Decimal("".join(groups))


def _scaled(value: Decimal, powers: Iterable[int]) -> frozenset[Decimal]:
    return frozenset((value * Decimal(10) ** power).normalize() for power in powers)


def _cjk_value(text: str, start: int) -> tuple[Decimal, int] | None:
    """The value of a chain of digits and CJK scale characters starting at ``start``, and where it ends."""
    total, end, found = Decimal(0), start, False
    while (number := _NUMBER.match(text, end)) and (units := _CJK_SCALE.match(text, number.end())):
        power = sum(_CJK_UNITS[unit] for unit in units.group())
        total += _plain_value(number.group()) * Decimal(10) ** power
        end, found = units.end(), True
    return (total.normalize(), end) if found else None


def quantities(text: str) -> list[Quantity]:
    """Every number ``text`` writes in digits, with the scale written after it ("2.5 billion", "£5m",
    500亿, "3 млрд"): the values it can mean, so "50 billion" and 500亿 are one amount."""
    text = re.sub(r"\[\d+\]", " ", text)
    found, position = [], 0
    while number := _NUMBER.search(text, position):
        digits = digits_of(number.group())
        if (chain := _cjk_value(text, number.start())) is not None:
            value, end = chain
            found.append(Quantity(text[number.start():end], digits, frozenset({value}), True))
            position = end
            continue
        values, end = _plain_values(re.sub(r"\s", "", number.group())), number.end()
        while word := _SCALE_WORD.match(text, end):  # "mil millones" is 10^3 * 10^6
            values = frozenset(v for value in values for v in _scaled(value, _SCALE_WORDS[word.group(1).lower()]))
            end = word.end()
        if end == number.end() and _CURRENCY_BEFORE.search(text[:number.start()]):
            if letter := _CURRENCY_SCALE.match(text, end):
                values = frozenset(v for value in values
                                   for v in _scaled(value, (6 if letter.group(1).lower() == "m" else 3,)))
                end = letter.end()
        found.append(Quantity(text[number.start():end].strip(), digits, values, end != number.end()))
        position = end
    return found


def held_amounts(text: str) -> tuple[set[str], set[Decimal]]:
    """The numbers ``text`` holds as ``numbers`` writes them, and every value it states: its digits with
    their scales, and the numbers it spells out ("two million")."""
    spelled = spelled_numbers(text)
    values = {value for quantity in quantities(text) for value in quantity.values}
    values |= {_plain_value(digits).normalize() for digits in spelled}
    return numbers(text) | spelled, values


def unheld_numbers(claim: str, *sources: str) -> list[str]:
    """The numbers ``claim`` states that none of ``sources`` holds, as the claim writes them.

    A number written with a scale ("50 billion", 500亿) must be held as that amount; a bare one as its
    digits (as before) or its amount ("2000000" for "two million"). Right by construction: an answer
    may paraphrase, but it never states an amount its evidence does not."""
    written: set[str] = set()
    amounts: set[Decimal] = set()
    for source in sources:
        source_written, source_amounts = held_amounts(source)
        written |= source_written
        amounts |= source_amounts
    missing = {quantity.written for quantity in quantities(claim)
               if not (quantity.values & amounts or (not quantity.scaled and quantity.digits in written))}
    return sorted(missing)
