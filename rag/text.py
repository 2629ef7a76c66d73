"""Pure text helpers shared by context building, citation checking, extractive answers and the judges."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import Stemmer  # PyStemmer, already used by the BM25 retriever

from rag.errors import InvalidText


@dataclass(frozen=True)
class Span:
    """A piece of a text with its character offsets in that text."""

    text: str
    start: int
    end: int


# A sentence ends at . ! ? … or a script's own stop (optionally followed by closing quotes/brackets and [n]
# markers) before white space, at a full-width 。！？ (Chinese and Japanese put no space after them), or at a line break.
# A full-width stop and its closing quotes or brackets: the end of a Chinese or Japanese sentence, wherever
# sentences are cut (here, the chunker's) or joined (``join_sentences``).
FULL_WIDTH_STOP = r"""[。！？]+["'”’」』)）\]]*"""
# The sentence stops of scripts that do not end a sentence with "." or "?": the Arabic question mark, the
# danda and double danda (Hindi, Marathi, Nepali, Bengali, Sanskrit), the Urdu full stop, the Ethiopic full
# stop and question mark (Amharic, Tigrinya), the Myanmar and the Khmer full stops.
SCRIPT_STOPS = "؟।॥۔።፧။។"
# Greek asks with ";": its own question mark (U+037E) is the semicolon once text is NFC-normalised, as
# ``rag.cleaning`` does, and Greek writes its semicolon as "·". After a Greek letter, ";" ends a question.
GREEK_QUESTION = r"(?<=[\u0370-\u03ff\u1f00-\u1fff]);"
_SENTENCE_END = re.compile(
    rf"""(?:[.!?…{SCRIPT_STOPS}]|{GREEK_QUESTION})+["'”’)\]]*(?:\s*\[\d+\])*(?=\s|$)"""
    rf"""|{FULL_WIDTH_STOP}(?:\s*\[\d+\])*|\n+""")
# What ends a sentence written in one line: an answer's markers go before it.
SENTENCE_STOP = ".!?…。！？" + SCRIPT_STOPS
# "U.S." or "Mr." before a space is not the end of a sentence (merging two sentences is harmless,
# cutting one in half is not).
# A rank or a title before a name too: "Sgt.", "Lt.", "Rev." cut 138 sentences of HaluEval's first 5,000 CNN articles.
_ABBREVIATION = re.compile(r"(?:\b[A-Z]\.){1,3}$|\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|Gen|Sen|Rep|Gov|No|vs|etc"
                           r"|Rev|Lt|Col|Sgt|Capt|Cpl|Maj|Adm|Cmdr|Det|Pvt)\.$")


# A sentence never starts with a lower-case letter: "Pacific Gas & Electric Co. to pay" and
# '"What Pet Should I Get?" debuts July 28' go on (in any script with case).
_NEXT_WORD = re.compile(r"\s+[\"'“‘(]?(\w)")


def _continues(text: str, end: int) -> bool:
    match = _NEXT_WORD.match(text, end)
    return bool(match) and match.group(1).islower()


# Hindi, Bengali and their neighbours end a sentence with a danda: in a text that writes one, a point after
# one of their letters marks an abbreviation or an initial ("एस. जयशंकर", S. Jaishankar; "डॉ.", Dr.), which
# no capital letter tells apart, and the cited sentence lost its subject.
_DANDA_LETTER_POINT = re.compile("(?<=[\u0900-\u0dff])[.]")


def split_sentences(text: str) -> list[Span]:
    """Sentences with offsets; line breaks always end one (headlines, list items)."""
    spans: list[Span] = []
    start = 0
    writes_dandas = "।" in text or "॥" in text
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if "\n" not in match.group() and end < len(text) and (
                _ABBREVIATION.search(text[start:end]) or _continues(text, end)
                or (writes_dandas and _DANDA_LETTER_POINT.match(text, match.start()))):
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


def _combining_marks() -> str:
    """A character class of the combining marks (Unicode categories M*) of the Basic Multilingual Plane.

    ``re``'s ``\\w`` leaves them out, so Hindi "मोदी" (its vowel signs are marks) fell apart into letters."""
    marks = [chr(c) for c in range(0x300, 0x10000) if unicodedata.category(chr(c)).startswith("M")]
    return "".join(re.escape(m) for m in marks)


COMBINING_MARKS = _combining_marks()  # escaped, for a character class
_LETTER = rf"(?:[^\W\d_]|[{COMBINING_MARKS}])"
LETTER = _LETTER  # a letter of any script, its combining marks included ("हाँ" is one word, not "ह")
# Letters of any script (Cyrillic, Greek, Devanagari, "Erdoğan" in one piece), with an apostrophe suffix
# ("Ukraine's").
_WORD = re.compile(rf"{_LETTER}+(?:['’]{_LETTER}+)?|\d+(?:[.,]\d+)*")
# Scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Burmese) and Korean,
# which joins particles to its words ("서울에서"): without a dictionary, a run of them is read as its
# overlapping character pairs, as Lucene's CJK bigram filter does, so "张艺谋" is found in "由导演张艺谋担任".
# Chinese and Japanese, with the iteration mark of "佐々木" and "〇" (U+3005-3007), Han characters too.
_HAN_AND_KANA = "\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SOUTHEAST_ASIAN = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"  # Thai, Lao, Burmese, Khmer
_RUN_TOGETHER = f"{_HAN_AND_KANA}{_SOUTHEAST_ASIAN}"
_UNSPACED = re.compile(f"[{_RUN_TOGETHER}\uac00-\ud7af]+")
# A regex lookbehind: a word starts here. Not just after a letter of a spaced script (nor a combining mark,
# which Python's ``\\w`` misses in Devanagari or Bengali) or a digit, so "мир" is not found in "Владимир";
# anywhere after a character of a script that writes its words together ("约401公里").
WORD_START = rf"(?<!(?![{_RUN_TOGETHER}]){_LETTER})(?<!\d)"
# A Chinese word is 1.7 characters on average: counting unspaced text in pairs keeps word-count rules
# ("a paragraph of 15 words is prose") meaningful for it.
_CHARACTERS_A_WORD = 2
# Thai, Lao, Khmer and Burmese spell a word with several letters, besides the vowel signs and tone marks
# written above, below and beside them: the first article of the Universal Declaration of Human Rights,
# 30 words in English, is 103 Thai letters, 89 Lao, 112 Khmer and 102 Burmese (129, 115, 180 and 236 code
# points). Counted two characters a word, as Chinese is, a Burmese paragraph read as four times as long.
_LETTERS_A_WORD_SOUTHEAST_ASIAN = 3.5
_PAIRED_RUN = re.compile(f"[{_HAN_AND_KANA}\uac00-\ud7af]+")
_SOUTHEAST_ASIAN_RUN = re.compile(f"[{_SOUTHEAST_ASIAN}]+")
_MARK = re.compile(f"[{COMBINING_MARKS}]")


def word_tokens(text: str) -> list[str]:
    """The words of ``text`` in order of kind: letter runs and numbers, then the character pairs of
    its unspaced-script runs (a run of one character is itself)."""
    pairs = [pair for match in _UNSPACED.finditer(text) for pair in _pairs(match.group())]
    return [match.group() for match in _spaced_words(text)] + pairs


def _spaced_words(text: str) -> Iterator[re.Match[str]]:
    """The letter runs and numbers of ``text`` outside its unspaced-script runs, at their offsets in it.

    A word ends where the script changes to one written without spaces: "BTS는", "NASAが" and "Model Y销量"
    hold the words "BTS", "NASA", "Model" and "Y". Every reader of words (``word_tokens``, ``name_forms``) cuts
    them here, so a name is looked for as the words it was read from ("BTS는" was a name no text held)."""
    return _WORD.finditer(_UNSPACED.sub(lambda match: " " * len(match.group()), text))


def _pairs(run: str) -> list[str]:
    return [run[i:i + 2] for i in range(max(1, len(run) - 1))]


def written_without_spaces(text: str) -> bool:
    """``text`` holds a run of a script written without spaces (or Korean): its words are character pairs."""
    return _UNSPACED.search(text) is not None


def spaced_pairs(text: str) -> str:
    """``text`` with each unspaced-script run written as its character pairs, space-separated: what a
    word tokenizer (BM25's) needs to find a Chinese or Japanese word inside a longer run."""
    return _UNSPACED.sub(lambda match: " " + " ".join(_pairs(match.group())) + " ", text)


_CHINESE_OR_JAPANESE = re.compile(f"[{_HAN_AND_KANA}]")


_FULL_WIDTH_END = re.compile(FULL_WIDTH_STOP + "$")


def join_sentences(sentences: Iterable[str]) -> str:
    """Sentences one after another: a space between them, as English writes them, but none after a
    full-width 。！？, as Chinese and Japanese write them ("28日[1]。 1945年" read as a stray gap)."""
    joined = ""
    for sentence in sentences:
        if joined and not _FULL_WIDTH_END.search(joined):
            joined += " "
        joined += sentence
    return joined


def ends_in_chinese_or_japanese(text: str) -> bool:
    """No space before a marker then, and 。 ends the sentence (Korean and Thai use spaces and ".")."""
    return bool(text) and bool(_CHINESE_OR_JAPANESE.match(text[-1]))


def word_count(text: str) -> int:
    """Words as a reader counts them: spaced words, Chinese, Japanese and Korean characters two to a word,
    and Thai, Lao, Khmer and Burmese letters (not their marks) ``_LETTERS_A_WORD_SOUTHEAST_ASIAN`` to one."""
    # counted by the regex engine, not a character at a time: cleaning counts every paragraph several times
    paired = sum(len(match.group()) for match in _PAIRED_RUN.finditer(text))
    letters = sum(len(run) - len(_MARK.findall(run)) for run in _SOUTHEAST_ASIAN_RUN.findall(text))
    unspaced = paired / _CHARACTERS_A_WORD + letters / _LETTERS_A_WORD_SOUTHEAST_ASIAN
    return len(_UNSPACED.sub(" ", text).split()) + math.ceil(unspaced)


# Scripts that one language writes together: Japanese mixes Han characters with both kana.
_SCRIPT_FAMILIES = {"CJK": "han-kana", "HIRAGANA": "han-kana", "KATAKANA": "han-kana", "HANGUL": "hangul"}


def _char_script(char: str) -> str:
    """A letter's script from its Unicode name ("LATIN", "CYRILLIC", "han-kana", "hangul"...)."""
    script = unicodedata.name(char, "UNKNOWN").split()[0]
    return _SCRIPT_FAMILIES.get(script, script)


def writing_script(text: str) -> str | None:
    """The script most of ``text``'s letters are written in, or None when it has no letters. Digits
    and marks do not count."""
    counts: dict[str, int] = {}
    for char in text:
        if char.isalpha():
            script = _char_script(char)
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else None


STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
nor not of off on once only or other our ours ourselves out over own same she should so some such than
that the their theirs them themselves then there these they this those through to too under until up very
was we were what when where which while who whom why will with would you your yours yourself yourselves
said says say told tell according also would could one two mr mrs ms
""".split())


class ScriptStemmer:
    """Snowball stemmers by script: a word is stemmed by the rules of the script it is written in, so one
    archive may mix languages ('Києва'/'Київ' share a stem whatever the Latin-script language is).
    Latin script has many languages and one word cannot say which: ``latin`` names the Snowball
    algorithm its words get (English unless an archive is mostly another, ``rag.keyword``).

    PyStemmer's interface (``stemWord``, ``stemWords``), so bm25s and llama-index's BM25 take it as is:
    their one stemmer per index left Cyrillic, Greek and Arabic words unstemmed under the English rules."""

    def __init__(self, latin: str = "english") -> None:
        self.latin = latin
        # Devanagari and Tamil by the Hindi and Tamil rules, once keyword search read their words whole
        # (``rag.keyword``): "प्रधानमंत्री"/"प्रधानमंत्रियों", "பாலம்"/"பாலத்தை" are one word each
        self._by_script = {"LATIN": Stemmer.Stemmer(latin), "CYRILLIC": Stemmer.Stemmer("russian"),
                           "GREEK": Stemmer.Stemmer("greek"), "ARABIC": Stemmer.Stemmer("arabic"),
                           "DEVANAGARI": Stemmer.Stemmer("hindi"), "TAMIL": Stemmer.Stemmer("tamil")}

    def stemWord(self, word: str) -> str:  # noqa: N802 (PyStemmer's name)
        """The word's stem, or the word where its rules leave nothing (the Greek rules take "όταν" whole, and
        the empty word is bm25s' own token: a question holding one failed in keyword search)."""
        stemmer = self._by_script.get(_char_script(word[0])) if word else None
        return (stemmer.stemWord(word) or word) if stemmer else word

    def stemWords(self, words: Iterable[str]) -> list[str]:  # noqa: N802 (PyStemmer's name)
        return [self.stemWord(word) for word in words]


_STEMMER = ScriptStemmer()  # the guards read every Latin-script text by the English rules


# A combining dot above after I or i: Turkish "İ" as Python lower-cases it ("i" + U+0307), or as written
# decomposed. Lower-case "i" has its dot already; the capital is the only letter Python lower-cases to two.
_DOT_ABOVE_I = re.compile("(?<=[Ii])\u0307")


_OTHER_DIGIT = re.compile(r"(?![0-9])\d")


def ascii_digits(text: str) -> str:
    """``text`` with every script's digits written 0-9: Persian "۱۰", Hindi "१०" and Thai "๑๐" are the
    number 10 that a question typed with Latin digits asks about (the number guard already reads them
    as values; keyword search compared them as different words)."""
    return _OTHER_DIGIT.sub(lambda digit: str(unicodedata.digit(digit.group())), text)


def undotted(text: str) -> str:
    """``text`` with Turkish "İ" and "ı" written "I" and "i": lower-cased, "İzmir", "İZMİR" and "izmir" are
    one word, and so are "KARŞIYAKA" and "Karşıyaka".

    Python lower-cases "İ" to "i" and a combining dot (U+0307), which splits a word at a word boundary
    ("i̇zmir" is "i" and "zmir" to a tokenizer) and keeps it from matching "izmir"; and it lower-cases
    Turkish capitals' "I" to "i", never to the "ı" the same word has in lower case, so a headline in
    capitals named nothing its article wrote. Matching is what these words serve (search and name
    checks), so the dot is folded away as search engines fold accents; "kır" and "kir" become one word,
    a rare confusion next to every capitalised word missed. Nothing else changes."""
    return _DOT_ABOVE_I.sub("", text.replace("İ", "I")).replace("ı", "i")


def shouted(text: str) -> bool:
    """``text`` is written in capitals (``without_shouting``): no lower-case letter, two words or more in
    capitals, and most of its letters capitals. A Chinese or Japanese question naming "CIQ" or "RQFII" has no
    lower-case letter either: its few capitals are names."""
    letters = [character for character in text if character.isalpha()]
    capitals = sum(character.isupper() for character in letters)
    return not any(character.islower() for character in letters) and capitals * 2 > len(letters) \
        and sum(1 for word in _WORD.finditer(text) if word.group().isupper()) >= 2


def without_shouting(text: str, common: Callable[[str], bool]) -> str:
    """``text`` written in capitals only ("IN WHICH BUILDING DID TRUMP AND ZELENSKY MEET?", "OKULUN TOPLAM
    MALİYETİ NE KADAR?") as a writer using both cases would write it: opening with a capital, the words
    the archive writes in lower case (``common``) in lower case, and the rest, names or words the archive
    does not hold, as they are. Any other text is unchanged. Written in capitals, a question's words tell no
    name apart, and every one was taken for a name the evidence must write so: the question was refused.
    Turkish "İ" and "I" fold as ``undotted`` folds them."""
    if not shouted(text):
        return text
    first = True

    def cased(word: re.Match[str]) -> str:
        nonlocal first
        written, opens = word.group(), first
        first = False
        return written.capitalize() if opens else written.lower() if common(written) else written

    return _WORD.sub(cased, undotted(text))


def normalise_word(word: str) -> str:
    """Lower-case Snowball stem without possessive, so 'Ukraine's'/'talks'/'meeting' match 'Ukraine'/'talk'/'meet'
    (and 'Києва'/'Київ' share a stem, 'İzmir'/'izmir' are one: ``undotted``); scripts without a stemmer are
    only lower-cased."""
    word = undotted(word).lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return _STEMMER.stemWord(word)


def content_words(text: str) -> set[str]:
    """The words that carry meaning: no stop words, no citation markers, numbers kept."""
    return set(content_word_sequence(text))


def content_word_sequence(text: str) -> list[str]:
    """``content_words`` in the order ``word_tokens`` reads them (for when order matters: a name)."""
    text = re.sub(r"\[\d+\]", " ", text)
    found = (normalise_word(w) for w in word_tokens(text))
    return [w for w in found if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


# A number as written: digits with "." or "," inside, or thousands grouped by a space as Polish, French,
# Russian or Swedish group them ("12 500", "1 500 000"; a no-break or thin space too). A space-grouped number
# has 1-3 digits, then groups of exactly three, and follows no number: "In 2019 500 people" stays two numbers,
# and so does a telephone number's "0800 555 111".
NUMBER = r"(?<!\d[ \u00a0\u202f\u2009])\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+(?:[.,]\d+)?(?!\d)|\d+(?:[.,]\d+)*"


def numbers(text: str) -> set[str]:
    """Numbers as written without separators ('400,000' -> '400000', '12 500' -> '12500'); a claim's numbers
    must be sourced."""
    text = re.sub(r"\[\d+\]", " ", text)
    return {digits_of(n) for n in re.findall(NUMBER, text)}


def digits_of(written: str) -> str:
    """A number as ``numbers`` keys it: without its commas and grouping spaces ("12 500" -> "12500")."""
    return re.sub(r"[,\s]", "", written).rstrip(".")


_SENTENCE_START = re.compile(r"""(?:^|[.!?:;。！？\n])["'“‘«(\s¿¡]*$""")  # Spanish opens with ¿ and ¡


def names(text: str, openers: bool = False) -> set[str]:
    """Capitalised words that are not stop words or short acronyms: the people, places and bodies.

    A word capitalised only because it opens a sentence ("Apart from Ukraine, which...?") is no name:
    sentence openers count only when the same word is also capitalised mid-sentence in the text, or
    when ``openers`` is set (an answer's first word is usually its subject: "Lavrov accused...").
    """
    return set(name_forms(text, openers))


def name_forms(text: str, openers: bool = False) -> dict[str, str]:
    """``names`` with the word each was written as (stem -> word): what the archive is asked about it."""
    text = re.sub(r"\[\d+\]", " ", text)
    initial: dict[str, str] = {}
    inner: dict[str, str] = {}
    for match in _spaced_words(text):
        word = match.group()
        if not word[0].isupper() or (len(word) <= 3 and word.isupper()):
            continue  # US, UK, EU-like acronyms are written too many ways to demand
        stem = normalise_word(word)
        if word.lower() in STOPWORDS or stem in STOPWORDS:  # "Willing" stems to "will"
            continue
        (initial if _opens_sentence(text, match.start()) else inner).setdefault(stem, word)
    kept = initial if openers else {stem: word for stem, word in initial.items() if stem in inner}
    return {**kept, **inner}


def _opens_sentence(text: str, start: int) -> bool:
    return bool(_SENTENCE_START.search(text[max(0, start - 4):start]))


def written_as_name(word: str, texts: Iterable[str]) -> bool:
    """``texts`` write ``word`` (any form of it) capitalised inside a sentence more often than in lower
    case: "Somerset" and "YouTube" are names in English news, "format" and "herd" are not, although a
    German question capitalises "Formate" and "Herde" as it does every noun."""
    capitalised, lower = _cases(word, texts)
    return capitalised > lower


def written_in_lower_case(word: str, texts: Iterable[str]) -> bool:
    """``texts`` write ``word`` (any form of it) in lower case more often than capitalised inside a sentence;
    a word they do not hold is not."""
    capitalised, lower = _cases(word, texts)
    return lower > capitalised


def _cases(word: str, texts: Iterable[str]) -> tuple[int, int]:
    """How often ``texts`` write ``word`` capitalised inside a sentence, and in lower case."""
    stem = normalise_word(word)
    capitalised = lower = 0
    for text in texts:
        for match in _spaced_words(text):
            found = match.group()
            if normalise_word(found) != stem:
                continue
            if found[0].islower():
                lower += 1
            elif not _opens_sentence(text, match.start()):
                capitalised += 1
    return capitalised, lower


def name_in(name: str, words: set[str]) -> bool:
    """Tolerates transliteration variants (Zelensky/Zelenskyy) through a shared 5+ letter prefix."""
    if name in words:
        return True
    if len(name) < 5 or not name.isalpha():
        return False
    stem = name[:max(5, len(name) - 2)]
    return any(word.startswith(stem) for word in words)


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
    return sum(name_in(name, words) for name in wanted) / len(wanted)


def clip_at_word(text: str, chars: int, mark: str = "…") -> str:
    """``text`` if it fits in ``chars``, else its start cut at the last space before them, then ``mark``:
    a preview that never ends inside a word."""
    return text if len(text) <= chars else text[:chars].rsplit(" ", 1)[0] + mark


def check_unicode(what: str, text: str) -> None:
    """Refuse text holding half of a character, naming where (``InvalidText``)."""
    if (at := lone_surrogate_at(text)) is not None:
        raise InvalidText(f"The {what} is not valid Unicode text: character {at + 1} is half of a character "
                          f"({text[at]!r}, a lone surrogate, as a string cut inside an emoji gives). Send the text whole.")


def whole_characters(text: str) -> str:
    """``text`` with each half of a character replaced by U+FFFD, as broken UTF-8 bytes are: a JSON file
    may escape one ("\\ud83d", a string cut inside an emoji), and its whole article was skipped."""
    if lone_surrogate_at(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def lone_surrogate_at(text: str) -> int | None:
    """Where ``text`` holds half of a character (a UTF-16 surrogate alone), or None: such text cannot be
    encoded, so the tokenizer failed deep inside the embedding step with a TypeError."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None
