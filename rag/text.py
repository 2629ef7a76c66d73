"""Pure text helpers shared by context building, citation checking, extractive answers and the judges."""

from __future__ import annotations

import re
from dataclasses import dataclass

import Stemmer  # PyStemmer, already used by the BM25 retriever


@dataclass(frozen=True)
class Span:
    """A piece of a text with its character offsets in that text."""

    text: str
    start: int
    end: int


# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets and [n] markers) before
# white space, or at a line break.
_SENTENCE_END = re.compile(r"""[.!?…]+["'”’)\]]*(?:\s*\[\d+\])*(?=\s|$)|\n+""")
# "U.S." or "Mr." before a space is not the end of a sentence (merging two sentences is harmless,
# cutting one in half is not).
_ABBREVIATION = re.compile(r"(?:\b[A-Z]\.){1,3}$|\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|Gen|Sen|Rep|Gov|No|vs|etc)\.$")


def split_sentences(text: str) -> list[Span]:
    """Sentences with offsets; line breaks always end one (headlines, list items)."""
    spans: list[Span] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if "\n" not in match.group() and _ABBREVIATION.search(text[start:end]) and end < len(text):
            continue
        _append_span(spans, text, start, end)
        start = end
    _append_span(spans, text, start, len(text))
    return spans


def _append_span(spans: list[Span], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    offset = start + piece.index(stripped)
    spans.append(Span(stripped, offset, offset + len(stripped)))


_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]+(?:['’][a-z]+)?|\d+(?:[.,]\d+)*")
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
nor not of off on once only or other our ours ourselves out over own same she should so some such than
that the their theirs them themselves then there these they this those through to too under until up very
was we were what when where which while who whom why will with would you your yours yourself yourselves
said says say told tell according also would could one two mr mrs ms
""".split())


_STEMMER = Stemmer.Stemmer("english")


def normalise_word(word: str) -> str:
    """Lower-case Snowball stem without possessive, so 'Ukraine's'/'talks'/'meeting' match 'Ukraine'/'talk'/'meet'."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return _STEMMER.stemWord(word)


def content_words(text: str) -> set[str]:
    """The words that carry meaning: no stop words, no citation markers, numbers kept."""
    text = re.sub(r"\[\d+\]", " ", text)
    words = {normalise_word(w) for w in _WORD.findall(text)}
    return {w for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())}


def numbers(text: str) -> set[str]:
    """Numbers as written without separators ('400,000' -> '400000'); a claim's numbers must be sourced."""
    text = re.sub(r"\[\d+\]", " ", text)
    return {re.sub(r"[,\s]", "", n).rstrip(".") for n in re.findall(r"\d+(?:[.,]\d+)*", text)}


# Words capitalised only because a sentence starts with them ("Apart from Ukraine, which...?"):
# not names, so a question or claim opening with one must not demand it of the articles.
SENTENCE_OPENERS = frozenset("""
apart aside besides beyond according regarding concerning following given despite since among across
along amid amidst toward towards within without upon onto per via unlike like including excluding except
name list tell describe explain compare summarise summarize give show identify briefly overall please
meanwhile however moreover still yet although though whereas earlier later finally first second third
last next previously recently currently today yesterday tomorrow now then also even just only instead
whose what's who's where's how's many much several another every either neither nobody none something
""".split())
_SENTENCE_START = re.compile(r"""(?:^|[.!?:;\n])["'“‘(\s]*$""")


def names(text: str) -> set[str]:
    """Capitalised words that are not stop words or short acronyms: the people, places and bodies."""
    text = re.sub(r"\[\d+\]", " ", text)
    found = set()
    for match in _WORD.finditer(text):
        word = match.group()
        if not word[0].isupper() or (len(word) <= 3 and word.isupper()):
            continue  # US, UK, EU-like acronyms are written too many ways to demand
        if word.lower() in SENTENCE_OPENERS and _SENTENCE_START.search(text[max(0, match.start() - 4):match.start()]):
            continue
        stem = normalise_word(word)
        if word.lower() not in STOPWORDS and stem not in STOPWORDS:  # "Willing" stems to "will"
            found.add(stem)
    return found


def _name_in(name: str, words: set[str]) -> bool:
    """Tolerates transliteration variants (Zelensky/Zelenskyy) through a shared 5+ letter prefix."""
    if name in words:
        return True
    if len(name) < 5 or not name.isalpha():
        return False
    stem = name[:max(5, len(name) - 2)]
    return any(word.startswith(stem) for word in words)


def support_score(claim: str, passage: str, given: str = "", background: str = "") -> float:
    """Share of the claim's content words found in the passage; 0 when a number or a name is not in it.

    A cheap, model-free test of whether a passage can back a sentence: used to drop or move citation
    markers that point at the wrong passage, to refuse answers nothing backs, and as the lexical
    baseline judge. Names and numbers are where small models invent things, so they are mandatory.
    ``given`` is text whose words the claim may repeat without support (the question it answers):
    answers restate the question, and those words are no evidence either way. The names the question
    asks about may instead be found in ``background`` (the passage's whole article): "According to the
    Kremlin, ..." is backed by a passage quoting the Kremlin's spokesman in an article naming the
    Kremlin elsewhere. The answer's own names and numbers must be in the passage itself.
    """
    given_words = content_words(given)
    # "Ukraine" answers nothing when the question asked which Ukrainian city: variants of a question
    # word are as given as the word itself. A claim that adds nothing to its question backs nothing.
    claim_words = {word for word in content_words(claim) if not _name_in(word, given_words)}
    if not claim_words:
        return 0.0
    passage_words = content_words(passage)
    if not numbers(claim) <= numbers(passage) | spelled_numbers(passage):
        return 0.0
    asked = names(given)
    around = passage_words | content_words(background) if background else passage_words
    for name in names(claim):
        if not _name_in(name, around if _name_in(name, asked) else passage_words):
            return 0.0
    return len(claim_words & passage_words) / len(claim_words)


def word_coverage(text: str, evidence: str) -> float:
    """Share of the text's content words that occur in the evidence (1.0 for a text without any).

    Unlike ``support_score`` no single missing name or number vetoes the text: used on long texts
    (a summary against its article), where a paraphrased name in one sentence is common in faithful
    texts and a run of words the evidence never uses is the sign of invented content.
    """
    words = content_words(text)
    return len(words & content_words(evidence)) / len(words) if words else 1.0


def coverage(wanted: set[str], text: str) -> float:
    """Share of ``wanted`` names found in ``text`` (1.0 when nothing is wanted)."""
    if not wanted:
        return 1.0
    words = content_words(text)
    return sum(_name_in(name, words) for name in wanted) / len(wanted)


_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
                 "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "hundred": "100",
                 "thousand": "1000", "million": "1000000"}


def spelled_numbers(text: str) -> set[str]:
    return {_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _NUMBER_WORDS}
