"""Turn a raw article (plain text, Markdown or HTML) into its body text plus metadata.

Pure functions, no I/O. ``CleanedArticle.text`` starts with the headline as its own paragraph
(so a search for the headline finds the article), then the body, with exactly one blank line
between paragraphs; chunk offsets and citation quotes refer to this exact string.

HTML goes through trafilatura (main text, title, author, site name) and htmldate (publication
date), wrapped to run offline and deterministically, with a few fixes for what they get wrong.
Plain text and Markdown have no markup to go on, so they get hand-written rules of general shape
(position, repetition, length, sentence punctuation, link-only lines, and the vocabulary of page
furniture such as "Advertisement" or "Share on"), never one site's sentences. They are
conservative: a sentence-ended paragraph of ``PROSE_WORDS`` words or more is never dropped for
mentioning cookies, subscriptions or sharing, and no positional rule touches it.
"""

from __future__ import annotations

import functools
import html
import itertools
import json
import logging
import re
import unicodedata
from collections import Counter
from copy import deepcopy
from dataclasses import dataclass
from datetime import timedelta
from collections.abc import Iterable
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from rag.dates import EARLIEST, LATEST, iso_date
from rag.text import SCRIPT_STOPS, ascii_digits, word_count

if TYPE_CHECKING:
    from lxml.html import HtmlElement

PROSE_WORDS = 15  # a sentence-ended paragraph at least this long is article prose
SHORT_WORDS = 12  # headline-ish lines (related lists, credits) are at most this long


@dataclass(frozen=True)
class CleanedArticle:
    """A cleaned article. ``text`` keeps the headline as its first paragraph (searchable)."""

    text: str
    title: str
    publisher: str = ""
    byline: str = ""
    published: str = ""  # ISO-8601 if found, else ""
    removed_lines: tuple[str, ...] = ()  # what was dropped, in order, for debugging
    unread_date: str = ""  # a metadata date that is no date ("N/A"): the ingestion report warns of it
    title_given: bool = False  # the title is the file's metadata (front matter, a header, the page's markup),
    # not a line of its text: then a text that is only that title has no body


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


# Devanagari's danda (।, ॥), the Arabic question mark and the Urdu full stop end sentences too: without them
# an Arabic article's closing question and every Hindi paragraph read as headline-like lines, not prose.
_SENTENCE_END = re.compile(rf"[.!?…:;。！？：；{SCRIPT_STOPS}][\"'”’)\]」』）]*$")
_QUOTE = re.compile(r"[“”„«»\"]")
# The same furniture in the languages news is most written in: "Advertisement" and "Read also" ("REKLAMA",
# "Czytaj także:", "Baca juga:", "פרסומת" were indexed as article text, and the next line's other story with them).
_ADVERTISEMENT_ELSEWHERE = (
    r"reklama|реклама|anzeige|werbung|publicit[ée]|publicidad|pubblicit[àa]|publicidade|advertentie|iklan|reklam"
    r"|διαφήμιση|פרסומת|تبلیغات|إعلان|اعلان|विज्ञापन|广告|広告|광고|quảng cáo|โฆษณา")
_READ_ALSO_ELSEWHERE = (
    r"czytaj (?:też|także|również|więcej)|zobacz (?:też|także|również)|baca (?:juga|selengkapnya)|lihat juga"
    r"|lesen sie (?:auch|mehr)|mehr zum thema|(?:à )?lire aussi|voir aussi|lee (?:también|más)|leer más"
    r"|ver (?:también|más)|leggi anche|leia (?:também|mais)|veja também|lees ook|lees meer|läs (?:även|mer)"
    r"|les også|læs også|читайте (?:также|також|еще)|смотрите также|дивіться також|ayrıca bakınız|devamını oku"
    r"|ilgili haberler|διαβάστε (?:επίσης|ακόμα)|קראו (?:עוד|גם)|קרא (?:עוד|גם)|اقرأ (?:أيضا|أيضًا|المزيد)"
    r"|بیشتر بخوانید|بخوانید|यह भी पढ़ें|ये भी पढ़ें|और पढ़ें|相关阅读|延伸阅读|相關閱讀|関連記事|관련 기사|함께 볼만한 뉴스"
    r"|đọc thêm|xem thêm|อ่านเพิ่มเติม|soma (?:pia|zaidi)")
# Whole short lines that are page furniture: ad slots, widget headers, share/print/tag lines.
_MARKER = _rx(
    r"advert(?:isement|ising)?|ads?|sponsored(?: content| post)?|promoted(?: content)?|paid (?:post|content)",
    r"(?:story|article) continues below.*|scroll to continue.*|continue reading(?: below)?",
    r"related(?: \w+){0,2}|(?:also |further )?read(?: more| next| also)?|see (?:also|more)",
    r"(?:more|latest|top|trending|popular|recommended|breaking|most (?:read|popular|viewed|shared))"
    r"(?: (?:news|stories|articles|headlines|posts|videos|reads|for you|from|on)\b.{0,40})?",
    r"you (?:may|might) (?:also )?(?:like|enjoy|be interested in).{0,20}",
    r"don['’]?t miss|in case you missed it|follow us(?: on .{1,40})?|(?:tags|topics|filed under):.*",
    r"share(?: this)?(?: article| story| post| page)?(?: on| via)?|print|e-?mail|\d* ?comments?",
    r"skip to (?:main )?content|back to top|menu|home|all rights reserved",
    _ADVERTISEMENT_ELSEWHERE, _READ_ALSO_ELSEWHERE,
)
# Calls to action that open a line: paywalls, sign-in, newsletters, app promotions, captions.
_PROMPT = _rx(
    r"^(?:sign (?:up|in)|log ?in|subscribe|register (?:now|for free|to)|join (?:us|now|today|our))\b",
    r"^already (?:a (?:member|subscriber)|have an account|subscribed)\b",
    r"^(?:download|get|install) (?:the|our) (?:free )?app\b|^start your (?:free )?trial\b",
    r"^(?:enter|provide) your e-?mail|\bdelivered (?:straight |directly )?to your inbox\b",
    r"^(?:read more|continue reading|click here|see more|learn more|read next|also read|read also|more)\s*[:|]",
    rf"^(?:{_READ_ALSO_ELSEWHERE})\s*[:|：]",
    r"\bto (?:continue )?read (?:this|the full|the rest of this) (?:article|story)\b",
    r"^this (?:article|content|story) is (?:only )?(?:for|available to) (?:subscribers|members)\b",
    r"^(?:photo|image|picture|video|photograph)s?(?: credit)?\s*:|^(?:©|\(c\)|copyright\s*(?:©|\d{4}))",
    r"^(?:got|have you got|do you have|have) an? (?:story|news tip|tip)\b",  # "Got a story? Email news@…"
)
# Cookie banners open with a typical phrase, or combine cookie, consent and you/we in a short paragraph.
_COOKIE_START = _rx(
    r"^(?:this|our) (?:web)?site uses cookies|^we(?: and our partners)? use cookies",
    r"^we (?:value|care about|respect) your privacy|^by (?:continuing|using|clicking)\b.{0,60}\bcookies\b",
)
_COOKIE_WORDS = (_rx(r"\bcookies?\b"), _rx(r"\b(?:accept|agree|consent|opt[- ]?out|manage|preferences|settings)\b"),
                 _rx(r"\b(?:you|your|we|our)\b"))
_NETWORKS = frozenset("facebook twitter x linkedin pinterest tumblr reddit whatsapp telegram email e-mail messenger "
                      "flipboard threads bluesky mastodon instagram youtube tiktok".split())
_SHARE_WORDS = _NETWORKS | frozenset("share sharing mail print copy link sms on this article story via url follow us "
                                     "and".split())
_FIRST_APPEARED = _rx(
    r"^(?:this (?:post|article|story) )?(?:appeared|was (?:first |originally )?published|originally appeared"
    r"|first appeared)(?: first| originally)? (?:on|in|at) (?P<pub>\S.{1,60}?)\.?$"
)
_COPYRIGHT = _rx(r"^(?:©|\(c\)|copyright)\s*©?\s*(?:\d{4}(?:\s*[-–]\s*\d{4})?\s*)?"
                 r"(?P<pub>[^.,|©]{2,60}?)\s*(?:[.,|]|$)")
_DATELINE = _rx(
    # a label, then a date or time: "Published figures show 12 farms are affected." is a sentence, not one
    r"^(?:published|updated|posted|last updated)\b(?: by [^.:]{1,40}?)?(?: on| at)?:?\s*"
    r"(?:\d|today|yesterday|(?:mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b)"
    r".{0,80}$",
    r"^(?:\w{3,9},? )?(?:\d{1,2}(?:st|nd|rd|th)? \w{3,9}|\w{3,9} \d{1,2}(?:st|nd|rd|th)?),? \d{4}"
    r"(?:,? (?:at )?\d{1,2}[:.]\d{2}(?: ?[ap]\.?m\.?)?(?: \w{2,4})?)?$",
    r"^\d{4}-\d{2}-\d{2}(?:[T ][\d:.+Z-]+)?$|^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}$",
)
_DATELINE_LABEL = re.compile(r"^(?:published|posted|first published)\b(?: by [^.:]{1,40}?)?(?: on| at)?:?\s*", re.IGNORECASE)
_UPDATE_WORD = re.compile(r"\b(?:updated?|modified|edited|last updated)\b", re.IGNORECASE)
# What sets a date apart from a label or byline before it: "Published: 3 June 2025", "Reporter, Sialkot — 10
# فروری 2025", "By Ana Cruz | 3 June 2025".
_DATE_AFTER = re.compile(r"(?:[:|•·]|\s[-–—]\s|\s[—–])\s*(?=\S)")
DATELINE_WORDS = 16  # a line that gives a date is short: a sentence that names one is the story's


def dateline_date(line: str) -> str:
    """The publication date (ISO) a header line gives, or "": the whole line a date ("June 3, 2025",
    "Hunyo 3, 2025", "2025-06-03"), or the date after its label or byline ("Published: June 3, 2025",
    "نمائندہ خصوصی — شائع شدہ: 10 فروری 2025"), in any language ``rag.dates`` reads. A date under the title
    of a text file was dropped with the line as furniture, and the article was left undated, outside every
    date-filtered search. Not an update's date, nor a bare year or number (no day)."""
    if _words(line) > DATELINE_WORDS or _UPDATE_WORD.search(line):
        return ""
    candidates = [line, _DATELINE_LABEL.sub("", line)] + [line[match.end():] for match in _DATE_AFTER.finditer(line)]
    for candidate in candidates:
        candidate = candidate.strip(" .")
        if re.search(r"\d", candidate) and not re.fullmatch(r"[\d\s]+", ascii_digits(candidate)) and \
                (date := iso_date(candidate)):
            return date
    return ""


_BYLINE = re.compile(r"^(?:By|BY|by)\s+(?P<name>[A-Z][\w.'’-]*(?:(?:\s+|,\s*|\s+and\s+|\s*&\s*)[A-Z][\w.'’-]*){0,7})"
                     r"\s*(?:[|•·,–—-].*)?$")
_BULLET = re.compile(r"^(?:[-*•·–]|\d{1,3}[.)])\s+\S")  # a list item of a plain-text article
_NAME_LINE = re.compile(r"^[A-Z][a-z’'.-]+(?: [A-Z][a-z’'.-]+){1,2}$")
_SECTION_WORDS = frozenset("news world politics business sport sports opinion latest breaking live home markets tech "
                           "technology science health entertainment culture travel europe asia africa americas middle "
                           "east west us uk video videos".split())


def _words(text: str) -> int:
    return word_count(text)  # Chinese or Japanese counts too: a paragraph of them is one "split()" word


def _ends_sentence(text: str) -> bool:
    return bool(_SENTENCE_END.search(text))


def _is_prose(text: str) -> bool:
    """Long, sentence-ended paragraphs are article body; every positional rule spares them."""
    return _ends_sentence(text) and _words(text) >= PROSE_WORDS


def _core(text: str) -> str:
    """The line without bullets, pipes or a trailing colon, so markers match however styled."""
    return text.strip(" -*•·|>:").strip()


def _is_share_bar(text: str) -> bool:
    """A row of share buttons: only network/share words, at least two of them buttons."""
    tokens = [t for t in re.split(r"[\s|/:•·,]+", text.casefold()) if t]
    if not tokens or any(t not in _SHARE_WORDS for t in tokens):
        return False
    return sum(t in _NETWORKS for t in tokens) + ("share" in tokens) >= 2


def _is_cookie_banner(text: str) -> bool:
    """Banners address the reader and ask for consent; reported speech (quotes) is never one."""
    if _COOKIE_START.search(text):
        return _words(text) <= 80
    return all(rx.search(text) for rx in _COOKIE_WORDS) and _words(text) <= 60 and not _QUOTE.search(text)


def _is_fragment(text: str) -> bool:
    """A few words starting in lower case and ending without punctuation ("end of list", "mehr
    anzeigen") are neither prose nor a heading (headings are capitalised): widget text. "iPhone"
    and "eBay" start brand names, not fragments."""
    return _words(text) <= 4 and text[:1].islower() and not text[1:2].isupper() and not _ends_sentence(text)


def _is_boilerplate(text: str) -> bool:
    """A plain-text line that is no article text: page furniture, or a widget's lowercase fragment."""
    return _is_fragment(text) or _is_furniture(text)


def _is_furniture(text: str) -> bool:
    """Page furniture, for the text and the HTML paths alike (trafilatura keeps paywall notices, copyright
    and "Last updated" lines). Vocabulary and shape rules, each limited to a short paragraph as a whole,
    so that running prose survives and no sentence is ever cut out of a paragraph. (Lowercase fragments
    are left to the text path: in HTML they are list items, or a page that is only a URL.)"""
    core, words = _core(text), _words(text)
    if _is_marker(text):
        return True
    if words <= 25 and (_is_call_to_action(core) or _FIRST_APPEARED.search(core)):
        return True
    return (words <= 12 and bool(_DATELINE.search(core) or _is_share_bar(core))) or _is_cookie_banner(text)


def _is_marker(text: str) -> bool:
    """A short line that labels page furniture ("Related", "Share this:", "Advertisement")."""
    core = _core(text)
    return _words(text) <= 10 and not _ends_sentence(core) and bool(_MARKER.fullmatch(core))


def _is_call_to_action(core: str) -> bool:
    """A paywall or sign-up notice opens with a call to action, or most of its sentences are one: "Want
    to keep reading? Subscribers get … Subscribe for £1. Already a subscriber? Log in." was indexed."""
    if _PROMPT.search(core):
        return True
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", core) if s]
    return sum(bool(_PROMPT.search(s)) for s in sentences) * 2 > len(sentences) > 1


def _is_story_sentence(text: str) -> bool:
    """In the page tail (after a marker) only narrative sentences survive, not slogans or promos."""
    second_person = re.search(r"\b(?:you|your)\b", text, re.I) and not _QUOTE.search(text)
    return _ends_sentence(text) and _words(text) >= 6 and not second_person


def _looks_like_name(text: str) -> bool:
    """A bare two- or three-word capitalised name line (not a section name) is a byline."""
    return bool(_NAME_LINE.match(text)) and not any(w.casefold() in _SECTION_WORDS for w in text.split())


def _byline_of(text: str) -> str:
    match = _BYLINE.match(text)
    return match.group("name").strip(" ,") if match and not _ends_sentence(text) and _words(text) <= 10 else ""


def _fold(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def _find_title(paras: list[str], top: int, junk: set[int], counts: Counter[str], hint: str) -> int | None:
    """The headline's paragraph: the metadata title's line when the body repeats it, else (no metadata
    title) the first substantial line without a final full stop before the body starts (repeated, junk
    and byline lines excluded). A metadata title the body does not repeat is the headline itself: a
    guessed one made every short line above the guess "chrome", and front-matter briefs lost their
    opening sentences ("Band D households will pay £2,104 a year" was all that was left of one)."""
    if hint:
        return next((i for i in range(top) if _fold(paras[i]) == _fold(hint)), None)
    head = [i for i in range(min(top, 15)) if i not in junk and (counts[paras[i].casefold()] == 1 or
            _words(paras[i]) > 6) and not _byline_of(paras[i]) and not _looks_like_name(paras[i])]
    for min_words in (4, 2):
        for i in head:
            if min_words <= _words(paras[i]) <= 30 and not re.search(r"[.,:;。，：；।॥۔][\"'”’)\]」』）]*$", paras[i]):
                return i
    return None


def _find_publisher(paras: list[str], top: int, counts: Counter[str]) -> str:
    """A source credit ("appeared first on X"), a short line repeated at the top, or a copyright line."""
    for p in paras:
        if _words(p) <= 15 and (match := _FIRST_APPEARED.search(_core(p))):
            return match.group("pub").strip()
    for p in paras[:top]:
        if counts[p.casefold()] >= 2 and _words(p) <= 6 and not _ends_sentence(p) and not _is_boilerplate(p):
            return p
    return next((m.group("pub").strip() for p in paras if (m := _COPYRIGHT.match(p))), "")


def _find_byline(paras: list[str], top: int, title_at: int | None, publisher: str) -> str:
    """A "By Jane Doe" line before the body, or a bare name line right above the headline."""
    if name := next((n for p in paras[:top] if (n := _byline_of(p))), ""):
        return name
    before = paras[title_at - 1] if title_at else ""
    return before if _looks_like_name(before) and before != publisher and not before.startswith("The ") else ""


def _own_list(paras: list[str], junk: set[int], items: frozenset[str]) -> set[int]:
    """The article's own list items: the short lines after a line ending in ":" that is no marker ("The new
    destinations are:"), and bullets ("- ", "1. ", or Markdown's, given as ``items``) right after a
    sentence. The trailing-headline rule dropped them at an article's end; a list of other stories comes
    after a marker ("Related") or a bare heading instead, or as a run of unmarked lines."""
    own: set[int] = set()
    colon_run = False  # a run after "...:" goes on with short lines, a run of bullets with bullets only
    for i in range(1, len(paras)):
        prev, bullet = paras[i - 1], paras[i] in items or bool(_BULLET.match(paras[i]))
        if i in junk or i - 1 in junk:
            colon_run = False
            continue
        if prev.endswith(":"):
            colon_run = True
        elif i - 1 not in own:
            colon_run = False
        if (colon_run and (bullet or _words(paras[i]) <= SHORT_WORDS)) or (
                bullet and (i - 1 in own or _ends_sentence(prev))):
            own.add(i)
    return own


def _drop_indexes(paras: list[str], junk: set[int], title_at: int | None, publisher: str,
                  items: frozenset[str] = frozenset()) -> set[int]:
    """Which paragraphs are not the article: junk, repeats, chrome above the headline, the page tail."""
    prose = [i for i, p in enumerate(paras) if i not in junk and _is_prose(p)]
    first_prose, last_prose = (prose[0], prose[-1]) if prose else (len(paras), -1)
    drop, seen = set(junk), set()
    for i, p in enumerate(paras):
        if p.casefold() in seen:  # repeats: publisher banners, pull quotes, prompts; the first copy stays
            drop.add(i)
        seen.add(p.casefold())
        if (title_at is not None and i < title_at and not _is_prose(p)) or (
            i < first_prose and (_byline_of(p) or p == publisher)
        ):
            drop.add(i)
    for j in sorted(junk):  # a marker ("Related stories") heads a list of short headline-ish lines
        i = j + 1
        while i < len(paras) and i != title_at and _words(paras[i]) <= SHORT_WORDS and not _ends_sentence(paras[i]):
            drop.add(i)
            i += 1
    if last_prose >= 0:  # after the last prose paragraph, a marker starts the page's tail
        cut = min((j for j in junk if j > last_prose), default=len(paras))
        drop.update(i for i in range(cut, len(paras)) if not _is_story_sentence(paras[i]))
        own = _own_list(paras, junk, items)
        drop.update(i for i in range(last_prose + 1, len(paras))  # trailing headline-ish lines
                    if _words(paras[i]) <= SHORT_WORDS and not _ends_sentence(paras[i]) and paras[i][0] != "("
                    and i not in own)
    return drop - {title_at}


HEADER_PARAGRAPHS = 8  # where a text's date line is looked for: before its first prose paragraph, and near the top


def _finish(paras: list[str], title: str = "", publisher: str = "", byline: str = "", published: str = "",
            removed: tuple[str, ...] = (), items: frozenset[str] = frozenset(), unread_date: str = "") -> CleanedArticle:
    """The paragraph rules and metadata detection shared by every input format; ``items`` are the
    paragraphs that were list items in the markup (Markdown's bullets lose their marker)."""
    paras, title_given = [p for p in paras if p], bool(title)
    counts = Counter(p.casefold() for p in paras)
    junk = {i for i, p in enumerate(paras) if _is_boilerplate(p)}
    top = next((i for i, p in enumerate(paras) if i not in junk and _is_prose(p)), min(len(paras), 15))
    title_at = _find_title(paras, top, junk, counts, title)
    publisher = publisher or _find_publisher(paras, top, counts)
    byline = byline or _find_byline(paras, top, title_at, publisher)
    drop = _drop_indexes(paras, junk, title_at, publisher, items)
    published = published or next(filter(None, map(dateline_date, paras[:min(top, HEADER_PARAGRAPHS)])), "")
    title = title or (paras[title_at] if title_at is not None else "")
    kept = ([title] if title and title_at is None else []) + [p for i, p in enumerate(paras) if i not in drop]
    removed += tuple(p for i, p in enumerate(paras) if i in drop)
    return CleanedArticle("\n\n".join(kept), title, publisher, byline, published, removed, unread_date, title_given)


def _normalise_lines(raw: str) -> list[str]:
    """NFC, unified newlines, no zero-width characters, single spaces, no edge spaces."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    return [re.sub(r"\s+", " ", line).strip() for line in re.sub("[\ufeff\u200b\u2060]", "", text).split("\n")]


def _paragraphs(lines: list[str]) -> list[str]:
    """Each line is a paragraph, unless the text is hard-wrapped (many lines go on with a lowercase
    word on the next line): then blank-line separated blocks are joined into paragraphs."""
    pairs = [b for a, b in pairwise(lines) if a and b]
    if len(pairs) < 2 or sum(b[0].islower() for b in pairs) < 0.3 * len(pairs):
        return [line for line in lines if line]
    return [" ".join(block.split()) for block in "\n".join(lines).split("\n\n") if block.strip()]


def clean_text(raw: str) -> CleanedArticle:
    """Clean a plain-text article (one paragraph per line, blank-line separated, or hard-wrapped), after
    its header of fields if it opens with one (``header_fields``)."""
    meta, raw = header_fields(raw)
    return _finish(_paragraphs(_normalise_lines(raw)), **meta)


HEADER_BLOCKS = 6  # header blocks set apart by blank lines that are read as one header, at most
# "Key: value", or a key left empty ("Title:"); a URL's "http://" is no key (no space after its colon).
_HEADER_FIELD = re.compile(r"([A-Za-z][A-Za-z _-]{0,30}):(?:[ \t]+(\S.*))?")


def header_fields(raw: str) -> tuple[dict[str, str], str]:
    """The "Title: ... / Date: ... / Author: ..." lines a text or Markdown article opens with (Pelican
    and MultiMarkdown metadata, and the way many hand-made archives are written), as metadata, and the
    text after them. They were read as the article: its headline "Title: ...", its first passage its
    fields. Only a first block (up to the first blank line) made of "Key: value" lines, one of whose
    keys is a title, date, author or source, counts: "Update: the toll rose to 12." stays text. Blocks
    after it made only of such keys belong to it ("Title: ..." and "Date: ..." set apart by a blank line
    left the date in the text and the article undated)."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff\n")
    pairs: list[tuple[str, str | None]] = []
    for _ in range(HEADER_BLOCKS):  # bounded: each block copies the rest, and an upload may hold 10,000
        head, blank, rest = text.partition("\n\n")
        fields = [_HEADER_FIELD.fullmatch(line.strip()) for line in head.split("\n")]
        if not blank or not all(fields):
            break
        block = [match.groups() for match in fields if match is not None]
        if pairs and not all(_metadata_field(key) for key, _ in block):
            break
        pairs, text = pairs + block, rest.lstrip("\n")
    meta = _block_metadata(pairs) if pairs else None
    return ({}, raw) if meta is None else (meta, text)


def _metadata_field(key: object) -> str | None:
    """The article field a metadata key names ("Pub-Date" is ``published``), or None."""
    return _METADATA_KEYS.get(re.sub(r"[ _-]", "", str(key).lower()))


_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\[[^\]]*\]")
_MD_EMPHASIS = re.compile(r"(\*\*|__|~~)(\S(?:.{0,400}?\S)?)\1|(?<![\w*])([*_])(\S(?:.{0,400}?\S)?)\3(?![\w*])")
_MD_SKIP_LINE = re.compile(r"^(?:\[[^\]]+\]:\s*\S+.*|[-*_=](?:\s*[-*_=]){2,}|```.*|~~~.*)$")
_MD_BLOCK_START = re.compile(r"^(?:>\s?)+|^#{1,6}\s+(?=.*?(\s+#+$))?|^[-*+]\s+")


def _strip_markdown_inline(text: str) -> str:
    """Images go, links keep their text, emphasis and code markers go, inline tags go."""
    text = _MD_LINK.sub(lambda m: m.group(1) or m.group(2), _MD_IMAGE.sub("", text))
    for _ in range(2):  # nested emphasis, e.g. ***bold italic***
        text = _MD_EMPHASIS.sub(lambda m: m.group(2) or m.group(4), text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    return re.sub(r"</?[a-zA-Z][^>]*>|<(https?://[^>]+)>", lambda m: m.group(1) or "", text).strip()


def clean_markdown(raw: str) -> CleanedArticle:
    """Clean Markdown: strip markup lightly, then apply the plain-text rules. Headings and list items
    are paragraphs of their own; a line that is only links (a "related" list) is dropped. Front matter
    (``front_matter``) or a header of fields (``header_fields``) gives the title, date, author and publisher."""
    meta, raw = front_matter(raw)
    if not meta:
        meta, raw = header_fields(raw)
    lines: list[str] = []
    removed: list[str] = []
    items: set[str] = set()
    for line in _normalise_lines(raw):
        if _MD_SKIP_LINE.match(line):  # rules, fences, reference definitions, setext underlines
            lines.append("")
            continue
        block = _MD_BLOCK_START.match(line)
        line = line[block.end() : len(line) - len(block.group(1) or "")] if block else line
        text = _strip_markdown_inline(line)
        if _MD_LINK.search(line) and not re.sub(r"[\W_]+", "", _MD_LINK.sub("", _MD_IMAGE.sub("", line))) \
                and not _ends_sentence(text):
            removed.append(text)
        else:
            lines.extend([text, ""] if block else [text])
            if block and block.group(0)[:1] in "-*+":  # a bullet: the article's own list (``_own_list``)
                items.add(text)
    return _finish(_paragraphs(lines), removed=tuple(removed), items=frozenset(items), **meta)


# YAML between "---" lines (Jekyll, Hugo, Obsidian, most static-site and CMS exports) or TOML between "+++"
# lines (Hugo), at the very start of the file.
_FRONT_MATTER = re.compile(r"\A\ufeff?(---|\+\+\+)[ \t]*\r?\n(.*?)\r?\n(?:\1|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
# The keys a front matter or header block names its metadata by (lower case, without spaces, "_" or "-"),
# and the field of ``_finish`` each fills; other keys are dropped with the block.
_METADATA_KEYS = {"title": "title", "headline": "title",
                  "date": "published", "published": "published", "publishdate": "published", "pubdate": "published",
                  "publishedat": "published", "datepublished": "published",
                  "author": "byline", "authors": "byline", "by": "byline", "byline": "byline",
                  "source": "publisher", "publisher": "publisher", "site": "publisher"}
MAX_FIELD_ITEMS = 50  # authors of one article, at most
MAX_FIELD_CHARS = 500


def front_matter(raw: str) -> tuple[dict[str, str], str]:
    """A Markdown file's front matter as ``_finish``'s metadata, and the text after it. Without it, the
    block was read as the article: its headline a run of "title: ... date: ... author: ..." and every
    article's first passage its metadata. A block that is not a readable mapping with at least one of
    these fields is left in the text: nothing is dropped on a guess."""
    import tomllib

    import yaml  # PyYAML

    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    try:
        data = yaml.safe_load(match.group(2)) if match.group(1) == "---" else tomllib.loads(match.group(2))
    except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError):
        # Hand-written front matter YAML refuses ("title: Breaking: port strike ends"): a header of fields?
        meta, rest = header_fields(match.group(2) + "\n\n")
        return (meta, raw[match.end():]) if meta and not rest.strip() else ({}, raw)
    meta = _block_metadata(data.items()) if isinstance(data, dict) else None
    if meta is None:
        return {}, raw  # "---" rules around a paragraph such as "Note: ..." read as a mapping too
    return meta, raw[match.end():]


def _block_metadata(pairs: Iterable[tuple[object, object]]) -> dict[str, str] | None:
    """The fields ``_METADATA_KEYS`` names among the block's ``(key, value)`` pairs, the first of each
    winning and the date as ISO 8601; None when no key is one of them (the block is no metadata)."""
    meta: dict[str, str] = {}
    known = False
    for key, value in pairs:
        field = _metadata_field(key)
        if field is not None:
            known = True
            meta.setdefault(field, _field_text(value))
    if not known:
        return None
    if meta.get("published") and not (published := iso_date(meta["published"])):
        meta["unread_date"] = meta["published"]  # said, not silently dropped (``CleanedArticle.unread_date``)
    if meta.get("published"):
        meta["published"] = published
    return {field: value for field, value in meta.items() if value}


def _field_text(value: object) -> str:
    """A field's value as text: a date as ISO 8601, a person or site by its ``name``, a list of them
    joined by commas. Lists are read one level deep and the text is cut at ``MAX_FIELD_CHARS``: YAML
    aliases nest lists cheaply, and an uploaded file's "author: *a9" would otherwise expand to billions."""
    if isinstance(value, list):
        value = ", ".join(filter(None, map(_field_scalar, value[:MAX_FIELD_ITEMS])))
    return _field_scalar(value)


def _field_scalar(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("name")
    if hasattr(value, "isoformat"):  # YAML and TOML read dates as date or datetime objects
        value = value.isoformat()  # type: ignore[union-attr]
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).strip()[:MAX_FIELD_CHARS]
    return ""


# --- HTML: trafilatura for the main text and metadata, htmldate for the date ---------------------------

LINK_SHARE = 0.6  # a short block with at least this share of link text is a list of links, not prose
# htmldate settings. Its default upper bound is today, so the same page could get another date on
# another day; the bounds of ``rag.dates`` make the result depend on the page alone.
_DATE_PARAMS: dict[str, object] = {
    "original_date": True,  # the first publication, not the last update
    # structured markup only (meta tags, JSON-LD, <time>, URL): a date guessed from running text can
    # be wrong, and a wrong date silently hides the article from date-filtered searches
    "extensive_search": False,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",  # keeps the time of day and zone when the page gives them
    "min_date": EARLIEST.strftime("%Y-%m-%d"),
    "max_date": (LATEST - timedelta(days=1)).strftime("%Y-%m-%d"),
}
_SIDEBARS = ('//aside | //*[@role="complementary"] | '
             '//*[re:test(@id, "sidebar", "i") or re:test(@class, "sidebar", "i")]')
_EXSLT = {"re": "http://exslt.org/regular-expressions"}
_BLOCKS = frozenset("p head item quote code row lb".split())  # trafilatura's output elements that end a line
_MODIFIED_META = re.compile(r"modif|lastmod|updat", re.IGNORECASE)
_PUBLISHED_META = re.compile(r"date|publi|created|issued", re.IGNORECASE)  # date, pubdate, article:published_time
_DATELINE_CLASS = re.compile(r"date|byline|publi|posted|time|meta", re.IGNORECASE)  # elements a page's date is written in
_NEWLINES = str.maketrans("\r\n\f\v", "    ")
_SUFFIX_START = re.compile(r"\s*[|–—-]\s")
_TITLE_PARTS = re.compile(r"\s+[|–—•·]\s+|\s+-\s+")  # "Headline | Site", "Headline - Section - Site"


def clean_html(raw: str) -> CleanedArticle:
    """Clean an HTML page: trafilatura's main text (no menus, banners, share bars, related links or
    comments) with the headline first, plus title, author, site name and publication date. Nothing is
    fetched: trafilatura and htmldate only ever get the parsed page, never a URL."""
    tree = _parse(raw)
    if tree is None:
        return CleanedArticle("", "")
    title, author, site, published = _metadata(tree)
    title, byline = _headline(title, tree, site), _byline(author, site)
    kept, removed = _select(_blocks(_main_text(_without_layout_tables(_with_update_times(tree)))), title, byline)
    return CleanedArticle("\n\n".join(([title] if title else []) + kept), title, site, byline, published,
                          tuple(removed), title_given=bool(title))


LAYOUT_CELL_WORDS = 50  # a table cell holding this much running text is a page column, not a datum


def _without_layout_tables(tree: HtmlElement) -> HtmlElement:
    """Tables that lay a page out made into plain blocks. trafilatura keeps a table whole, so on a page laid
    out in one (a "Most read" and weather column beside the story, reader comments under it) the sidebar and
    the comments were indexed with the story, and a comment's "only 10,000 books were saved" was cited
    against the article's 64,000. A layout table has no header cells or caption, and a cell holding
    paragraphs, line breaks or ``LAYOUT_CELL_WORDS`` words; a data table's cells are short and stay a table."""
    if not any(_lays_out(table) for table in tree.iter("table")):
        return tree
    tree = deepcopy(tree)
    for table in [table for table in tree.iter("table") if _lays_out(table)]:
        for node in [table, *table.iter("thead", "tbody", "tfoot", "tr", "td")]:
            node.tag = "div"
    return tree


def _lays_out(table: HtmlElement) -> bool:
    if table.find(".//th") is not None or table.find(".//caption") is not None or \
            (table.get("role") or "").lower() in ("table", "grid"):
        return False
    return any(cell.find(".//p") is not None or len(cell.findall(".//br")) >= 2 or cell.find(".//table") is not None
               or word_count(cell.text_content()) >= LAYOUT_CELL_WORDS for cell in table.iter("td"))


LIVE_BLOG_UPDATES = 3  # <time>-led paragraphs that make a page a live blog, where each time is content


def _with_update_times(tree: HtmlElement) -> HtmlElement:
    """A live blog's update times written into their updates: trafilatura drops a <time> standing before a
    paragraph, so "16:40 A power cut has hit polling station 14" became a power cut at no time, and "when"
    questions could not be answered. Only where at least ``LIVE_BLOG_UPDATES`` times each lead a paragraph:
    a single dateline before the first paragraph stays out of it (the date is the article's metadata)."""
    leading = [(time, para) for time in tree.iter("time")
               if (para := time.getnext()) is not None and para.tag == "p" and _normalise(time.text_content())]
    if len(leading) < LIVE_BLOG_UPDATES:
        return tree
    tree = deepcopy(tree)  # the metadata was read from the page as it is
    for time in tree.iter("time"):
        para = time.getnext()
        if para is not None and para.tag == "p" and (stamp := _normalise(time.text_content())):
            para.text = f"{stamp} – {para.text or ''}"
    return tree


def _parse(raw: str) -> HtmlElement | None:
    """The page's tree with the newlines of its text made spaces (outside <pre>). In HTML a newline is
    just a space, but trafilatura copies it into its output (hard-wrapped source, as on zeit.de); once
    replaced, every newline in its output is a line break that trafilatura put there. One space for
    one character: trafilatura's choice of the main text depends on text lengths."""
    from trafilatura.utils import load_html

    if not raw.strip():
        return None
    # trafilatura refuses input that does not start like a whole document (a saved fragment such as
    # "<p>…</p>", or plain text in an .html file); inside <html><body> it is one.
    tree = load_html(raw)
    if tree is None:
        tree = load_html(f"<html><body>{raw}</body></html>")
    if tree is None:
        return None
    verbatim = {node for pre in tree.iter("pre", "textarea", "script", "style") for node in pre.iter()}
    for node in tree.iter():
        if node not in verbatim and node.text:
            node.text = node.text.translate(_NEWLINES)
        if node.tail and node.getparent() not in verbatim:
            node.tail = node.tail.translate(_NEWLINES)
    return tree


def _metadata(tree: HtmlElement) -> tuple[str, str, str, str]:
    """(title, author, site name, ISO date) of the page without its comments, sidebars and site furniture
    (``_article_page``); the date goes through ``rag.dates`` like every other date."""
    from htmldate import find_date
    from trafilatura.metadata import extract_metadata

    page = _article_page(tree)
    found = extract_metadata(_without_modified_dates(page), date_config=dict(_DATE_PARAMS))
    date = iso_date(found.date or find_date(page, **_DATE_PARAMS) or "")  # an update date is better than none
    title, site = _normalise(found.title or ""), _normalise(found.sitename or "")
    headlines = [title.casefold(), *(_normalise(h.text_content()).casefold() for h in page.iter("h1"))]
    if site and any(headline.startswith(site.casefold()) for headline in headlines if headline):
        site = _other_title_part(page, site)  # the site's name is no headline, nor the start of one
    return title, found.author or "", site, _with_time(date, page) if date else _date_htmldate_cannot_read(page)


def _other_title_part(page: HtmlElement, headline: str) -> str:
    """The site's name when trafilatura took the headline for it: "<title>Banjir rob rendam 1.200 rumah -
    Warta Pantura</title>" gave the site "Banjir rob rendam 1.200 rumah", so the article was titled with
    its file name (a title that names the site gives way) and published by its own headline (or by its
    headline's start, when the <h1> goes on: "... 3.400 famílias em Lajeado"). The one other part of
    the <title>, or none."""
    node = page.find(".//title")
    parts = _TITLE_PARTS.split(_normalise(node.text_content())) if node is not None else []
    others = [part.strip() for part in parts if part.strip() and part.strip().casefold() != headline.casefold()]
    return others[0] if len(others) == 1 and len(others) < len(parts) else ""


def _date_htmldate_cannot_read(page: HtmlElement) -> str:
    """The first publication-date meta tag, else the first <time> element, that ``rag.dates`` reads,
    attribute or text: htmldate reads English month names only, so "<time>14 listopada 2023</time>",
    "2024年4月18日 23時15分" or <meta name="pubdate" content="11 tháng 5, 2024"> left the page undated,
    outside every date-filtered search, although the same strings in a feed were read. Update dates are
    not publication dates. Last, a byline's or date line's words (``dateline_date``): "شائع شدہ: 10 فروری 2025"."""
    for node in page.iter("meta"):
        key = " ".join(node.get(a, "") for a in ("name", "property", "itemprop", "http-equiv"))
        if _PUBLISHED_META.search(key) and not _MODIFIED_META.search(key):
            if date := iso_date(" ".join((node.get("content") or "").split())):
                return date
    for node in page.iter("time"):
        for value in (node.get("datetime") or "", node.text_content()):
            if date := iso_date(" ".join(value.split())):
                return date
    # a byline's date in its words: <p class="byline">Reporter — شائع شدہ: 10 فروری 2025</p>. A visitor's page
    # may nest thousands of such elements, each holding the whole page: a few are read, a few hundred
    # characters each
    marked = (node for node in page.iter() if isinstance(node.tag, str)
              and _DATELINE_CLASS.search(marks := f"{node.get('class', '')} {node.get('id', '')}")
              and not _MODIFIED_META.search(marks))
    for node in itertools.islice(marked, DATELINE_ELEMENTS):
        if date := dateline_date(_normalise(_opening_text(node, DATELINE_CHARACTERS))):
            return date
    return ""


DATELINE_ELEMENTS = 20  # byline or date elements read for a date, at most
DATELINE_CHARACTERS = 400  # of each: a date line is short (``DATELINE_WORDS``)


def _opening_text(node: HtmlElement, limit: int) -> str:
    """The text of ``node`` up to ``limit`` characters and a piece, without copying all of it."""
    pieces, size = [], 0
    for piece in node.itertext():
        pieces.append(piece[:limit])
        size += len(pieces[-1])
        if size > limit:
            break
    return "".join(pieces)


# The site's own header, navigation and footer, where a masthead shows today's date, not the article's: a
# <nav>, or a <header> or <footer> outside the <article> or <main>; a <header> holding the page's <h1> is
# the article's own (a blog's "entry-header" with its headline and date).
_SITE_FURNITURE = ('//nav | //footer[not(ancestor::article or ancestor::main)] | '
                   '//header[not(ancestor::article or ancestor::main) and not(.//h1)]')


def _article_page(tree: HtmlElement) -> HtmlElement:
    """A copy of the page without its reader comments (trafilatura's comment sections), sidebars (<aside>,
    ARIA's "complementary", a "sidebar" class or id) and the site's furniture (``_SITE_FURNITURE``):
    htmldate took the first comment's <time> as the date of a page that gives none of its own, else a
    widget's "Updated" time, or the masthead's "Monday, 7 December 2026" (today: every article of the site
    was dated the day it was ingested). No date is better than a wrong one, which hides the article from
    date-filtered searches."""
    from trafilatura.xpaths import REMOVE_COMMENTS_XPATH

    pruned = deepcopy(tree)
    found = [node for xpath in REMOVE_COMMENTS_XPATH for node in xpath(pruned)]
    for node in found + pruned.xpath(f"{_SIDEBARS} | {_SITE_FURNITURE}", namespaces=_EXSLT):
        if node.getparent() is not None:
            node.drop_tree()
    return pruned


def _with_time(date: str, tree: HtmlElement) -> str:
    """htmldate keeps the time of day only from ISO timestamps: "Sat, 07 Dec 2024 09:30:00 GMT" comes
    back as midnight. A meta tag or <time> element of the same day that ``rag.dates`` reads with its
    time gives it back (an update date excepted)."""
    if not date.endswith("T00:00:00"):
        return date
    for node in tree.iter("meta", "time"):
        key = " ".join(node.get(a, "") for a in ("name", "property", "itemprop", "http-equiv"))
        value = iso_date(node.get("content") or node.get("datetime") or "")
        if value[:10] == date[:10] and value != date and not _MODIFIED_META.search(key):
            return value
    return date


def _without_modified_dates(tree: HtmlElement) -> HtmlElement:
    """htmldate takes a "last-modified" meta tag as the date before it looks at the <time> element in
    the body, even when asked for the original date (Süddeutsche: 17 May for a story of 15 May 05:28).
    A copy without update-date meta tags gives the publication date."""
    pruned = deepcopy(tree)
    for meta in list(pruned.iter("meta")):
        if _MODIFIED_META.search(" ".join(meta.get(a, "") for a in ("name", "property", "itemprop", "http-equiv"))):
            meta.drop_tree()
    return pruned


# trafilatura takes fewer than MIN_EXTRACTED_SIZE characters (250) of main text for a failure and falls back to
# extractors that join the page's blocks into one paragraph: a Japanese story of 200 characters, ~100 words,
# came out as headline, dateline and three paragraphs in one block, quoted together. The bound is kept in
# words, as a reader counts them (``word_count``): an English page's 250 characters are ~42 words.
TRAFILATURA_MIN_CHARACTERS = 250
ENGLISH_CHARACTERS_A_WORD = 6


def _extraction_config(tree: HtmlElement) -> Any:
    """trafilatura's settings with its minimum main text in characters scaled to the page's script."""
    body = tree.find(".//body")
    text = " ".join((body if body is not None else tree).text_content().split())
    per_word = len(text) / max(word_count(text), 1)
    minimum = round(TRAFILATURA_MIN_CHARACTERS * min(1.0, per_word / ENGLISH_CHARACTERS_A_WORD))
    return _trafilatura_config(max(minimum, TRAFILATURA_MIN_CHARACTERS // 4))


@functools.lru_cache(maxsize=16)
def _trafilatura_config(min_characters: int) -> Any:
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(min_characters))
    return config


def _main_text(tree: HtmlElement) -> HtmlElement:
    """trafilatura's main-text tree, settings fixed for repeatable output: no comments, no
    cross-document deduplication (its cache would make a page's text depend on earlier pages), links
    kept as elements so that link lists can be told apart."""
    from trafilatura import bare_extraction, baseline

    logger = logging.getLogger("trafilatura")
    if logger.level == logging.NOTSET:  # it warns for every page it gives up on; we fall back instead
        logger.setLevel(logging.ERROR)
    # Its fallbacks (readability, jusText, its baseline) read the page as given, so menus and buttons are
    # taken out first (``_without_chrome``); its own extraction takes them out anyway.
    page = _without_chrome(tree)
    found = bare_extraction(page, include_comments=False, include_tables=True, include_links=True,
                            deduplicate=False, config=_extraction_config(tree))
    # trafilatura returns nothing for a page with too little text that looks like an article (a short
    # notice, a page of one list); its baseline keeps the page's paragraphs, or else all its body text.
    body = found.body if found is not None else baseline(page)[0]
    return body if body.find(".//ref") is not None else _with_links_marked(body, tree)


# Of what trafilatura's own extraction removes as no article text (menus, footers, buttons, form fields,
# embeds), these stay: what its baseline reads an article from (JSON-LD in <script>, <head>), what wraps whole
# pages (ASP.NET's <form>), and text inside a sentence (<time>, <math>) or under a photo (<figure>).
_BASELINE_KEEPS = frozenset({"form", "head", "script", "figure", "time", "math"})


def _without_chrome(tree: HtmlElement) -> HtmlElement:
    """A copy of the page without the menus, footers and controls that trafilatura's main extraction drops.
    Its baseline, the fallback for a page too short to extract, reads all body text: a page of only a menu,
    a cookie banner and a footer kept its "Accept" button as the article."""
    from trafilatura.settings import MANUALLY_CLEANED

    tags = [tag for tag in MANUALLY_CLEANED if tag not in _BASELINE_KEEPS]
    if next(tree.iter(*tags), None) is None:
        return tree
    pruned = deepcopy(tree)
    for node in list(pruned.iter(*tags)):
        if node.getparent() is not None:
            node.drop_tree()
    return pruned


MAX_MARKED_LINKS = 500  # a page of thousands of links is a directory, not an article: its first ones suffice


def _with_links_marked(body: HtmlElement, page: HtmlElement) -> HtmlElement:
    """Where trafilatura kept text only (its baseline, or the fallback it prefers on a short page such as
    WordPress's ``content.rendered`` fragment), a "Related" box's headline, a link, was kept as the
    article's last paragraph. The page's link texts are marked in it again as trafilatura's own output
    marks them (``<ref>``), for ``_select`` to tell link lists from prose. A line that ends like a sentence
    is left unmarked: "Read the board's full report here." is the article's, whatever its link covers."""
    from lxml.etree import SubElement

    anchors = sorted({text for a in page.iter("a") if 0 < len(text := _normalise(a.text_content())) <= 300},
                     key=len, reverse=True)[:MAX_MARKED_LINKS]
    if not anchors:
        return body
    link = re.compile("|".join(map(re.escape, anchors)))
    for block in body.iter(*_BLOCKS):
        text = block.text or ""
        if len(block) or _ends_sentence(text) or not link.search(text):  # markup inside: left as it is
            continue
        block.text, last, position = None, None, 0
        for match in link.finditer(text):
            if last is None:
                block.text = text[position:match.start()]
            else:
                last.tail = text[position:match.start()]
            last = SubElement(block, "ref")
            last.text, position = match.group(), match.end()
        if last is not None:
            last.tail = text[position:]
    return body


def _blocks(body: HtmlElement) -> list[tuple[str, int]]:
    """Each line of trafilatura's output tree with how many of its characters are link text (its text
    output cannot tell link text apart)."""
    pieces: list[tuple[str, bool] | None] = []
    _flatten(body, False, pieces)
    blocks: list[tuple[str, int]] = []
    line: list[tuple[str, bool]] = []
    for piece in [*pieces, None]:
        if piece is not None:
            line.append(piece)
            continue
        if text := _normalise("".join(t for t, _ in line)):
            blocks.append((text, len(_normalise("".join(t for t, link in line if link)))))
        line = []
    return blocks


def _flatten(elem: HtmlElement, in_link: bool, out: list[tuple[str, bool] | None]) -> None:
    """Text pieces in document order, each marked as link text or not; None where a line ends."""
    if isinstance(elem.tag, str):
        link, ends_line = in_link or elem.tag == "ref", elem.tag in _BLOCKS
        out.extend([None] if ends_line else [])
        _add_text(elem.text, link, out)
        for child in elem:
            _flatten(child, link, out)
        out.extend([None] if ends_line else [(" ", False)] if elem.tag == "cell" else [])
    _add_text(elem.tail, in_link, out)


def _add_text(text: str | None, link: bool, out: list[tuple[str, bool] | None]) -> None:
    """A newline here was put there by trafilatura (``_parse`` made the page's own spaces): a line break."""
    for i, part in enumerate((text or "").split("\n")):
        out.extend(([None] if i else []) + ([(part, link)] if part else []))


def _normalise(text: str) -> str:
    """NFC, no zero-width characters, single spaces (non-breaking ones included), no edge spaces."""
    return " ".join(re.sub("[\ufeff\u200b\u2060]", "", unicodedata.normalize("NFC", text)).split())


def _headline(title: str, tree: HtmlElement, site: str) -> str:
    """The page's headline. trafilatura takes og:title as it is: some sites append their name or a date
    there (DW: "… | DW | 19.01.2020"), and some put only the site's name there, which then opened the
    article's text and was cited as evidence ("Tri-County Voice won the court fight"). A title that is
    the site's name, or has no word in common with the headline the page marks up, gives way to that
    headline or to a heading above the article's first paragraph that is no site name; no title is better
    than the site's. A page without any title keeps none (a heading inside its text is no headline)."""
    ld = _json_ld(tree)
    names, marked = _site_names(tree, site, ld), _marked_headlines(tree, ld)
    title = "" if _is_furniture(title) else _without_site_suffix(_cut_at_h1(title, tree), names)  # "Share this:"
    if not title or not (_names_site(title, names) or (marked and all(_unrelated(title, m) for m in marked))):
        return title
    return next((h for h in marked + _leading_headings(tree)
                 if 2 <= _words(h) <= 30 and not _names_site(h, names) and not _is_furniture(h)), "")


def _leading_headings(tree: HtmlElement) -> list[str]:
    """The <h1> and <h2> texts that come before the page's first paragraph of prose."""
    headings: list[str] = []
    for node in tree.iter("h1", "h2", "p"):
        text = _normalise(node.text_content())
        if node.tag == "p" and _is_prose(text) and not _is_furniture(text):  # a consent banner comes first
            break
        if node.tag != "p" and text:
            headings.append(text)
    return headings


def _cut_at_h1(title: str, tree: HtmlElement) -> str:
    """The page's <h1> when the title starts with it and goes on after a separator (DW's "| DW | date")."""
    for h1 in tree.iter("h1"):
        head = _normalise(h1.text_content())
        if head and title.startswith(head) and _SUFFIX_START.match(title[len(head):]):
            return head
    return title


def _without_site_suffix(title: str, names: list[str]) -> str:
    """The title without a trailing " | <site name>" that the <h1> cut missed (its quotes differ)."""
    for name in names:
        cut = re.sub(rf"{_SUFFIX_START.pattern}\s*{re.escape(name)}\s*$", "", title, flags=re.IGNORECASE)
        if cut != title and cut:
            return cut
    return title


def _site_names(tree: HtmlElement, site: str, ld: list[dict[str, object]]) -> list[str]:
    """What the page calls its site: trafilatura's site name, og:site_name and application-name, the
    publisher of its JSON-LD, and the last part of a "<page> | <site>" <title> (a few words, not a date);
    longest first."""
    names = [site]
    names += [meta.get("content") or "" for meta in tree.iter("meta")
              if (meta.get("property") or meta.get("name") or "").lower() in ("og:site_name", "application-name")]
    for item in ld:
        publishers = item.get("publisher")
        for publisher in publishers if isinstance(publishers, list) else [publishers]:
            names.append(publisher.get("name") if isinstance(publisher, dict) else publisher)
    page_title = _normalise(next((node.text_content() for node in tree.iter("title")), ""))
    parts = _TITLE_PARTS.split(page_title)
    if len(parts) >= 2 and _words(parts[-1]) <= 5 and re.search(r"[^\W\d_]", parts[-1]) \
            and not _headed_whole(page_title, tree, ld):
        names.append(parts[-1])
    found = {name for name in (_normalise(n) for n in names if isinstance(n, str)) if _fold(name)}
    return sorted(found, key=lambda name: (-len(name), name))


def _headed_whole(page_title: str, tree: HtmlElement, ld: list[dict[str, object]]) -> bool:
    """Whether the page's <h1> or marked-up headline holds its whole <title>: then what follows a dash in
    it is the headline's ("Strike closes ports – workers demand pay rise"), not a site's name, and the
    headline was cut at the dash."""
    whole = _fold(page_title)
    headings = [_normalise(h1.text_content()) for h1 in tree.iter("h1")] + _marked_headlines(tree, ld)
    return any(whole in _fold(heading) for heading in headings)


def _names_site(text: str, names: list[str]) -> bool:
    """The text is a site's name, or a part of one ("Voice" of "Tri-County Voice")."""
    return any(f" {_fold(text)} " in f" {_fold(name)} " for name in names) if _fold(text) else False


def _unrelated(title: str, headline: str) -> bool:
    """No word of four letters or more in common: a site's name beside a headline, not two wordings of one."""
    def words(text: str) -> set[str]:
        return {w for w in _fold(text).split() if len(w) >= 4}
    return not words(title) & words(headline)


def _marked_headlines(tree: HtmlElement, ld: list[dict[str, object]]) -> list[str]:
    """The headlines the page marks up for search engines: JSON-LD "headline", then itemprop="headline"."""
    found = [html.unescape(headline) for item in ld if isinstance(headline := item.get("headline"), str)]
    found += [node.get("content") or node.text_content() for node in tree.xpath('//*[@itemprop="headline"]')]
    return [h for h in map(_normalise, found) if h]


def _json_ld(tree: HtmlElement) -> list[dict[str, object]]:
    """The objects of the page's JSON-LD blocks (those of an "@graph" too); an unreadable block is skipped."""
    objects: list[dict[str, object]] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            todo = [json.loads(script.text or "")]
        except (ValueError, RecursionError):  # a page's broken block, or one nested to exhaust the parser
            continue
        while todo and len(objects) < 200:
            item = todo.pop(0)
            if isinstance(item, list):
                todo.extend(item)
            elif isinstance(item, dict):
                objects.append(item)
                todo.extend(v for k, v in item.items() if k == "@graph")
    return objects


def _byline(author: str, site: str) -> str:
    """trafilatura falls back to the organisation when a page names no person ("Süddeutsche de GmbH;
    Munich; Germany"): an author that names the site is the publisher, not a byline."""
    site_key = _fold(site)
    parts = [_fold(part) for part in author.split(";")]
    return "" if site_key and any(len(p) >= 4 and (site_key in p or p in site_key) for p in parts) \
        else _normalise(author)


def _is_credit(text: str, byline: str) -> bool:
    """A short unpunctuated line naming the author ("Par Jacques Munier") is the byline, kept as metadata."""
    names = [_fold(name) for name in byline.split(";") if _fold(name)]
    return any(f" {name} " in f" {_fold(text)} " for name in names) and _words(text) <= _words(byline) + 2 \
        and not _ends_sentence(text)


def _select(blocks: list[tuple[str, int]], title: str, byline: str) -> tuple[list[str], list[str]]:
    """(kept, removed) lines of trafilatura's text. It keeps lines that are only a link ("Read more:
    <link>", DW), the header of a list of them, byline lines, repeated pull quotes (Spiegel) and the page
    furniture the text path drops too (consent banners on a short page, where it keeps every paragraph;
    paywall notices, copyright and "Last updated" lines), and puts the headline wherever the page had it,
    or nowhere: the caller puts it first, once."""
    def is_link_list(i: int) -> bool:
        return i < len(blocks) and blocks[i][1] >= LINK_SHARE * len(blocks[i][0]) and not _is_prose(blocks[i][0])

    kept: list[str] = []
    removed: list[str] = []
    seen = {_fold(title)}
    for i, (text, _) in enumerate(blocks):
        list_header = _words(text) <= SHORT_WORDS and text.endswith(":") and is_link_list(i + 1)
        if is_link_list(i) or list_header or _fold(text) in seen or _is_credit(text, byline) or _is_furniture(text):
            removed.append(text)
        else:
            kept.append(text)
            seen.add(_fold(text))
    return kept, removed
