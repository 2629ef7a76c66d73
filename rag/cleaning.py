"""Turn a raw article (plain text, Markdown or HTML) into its body text plus metadata.

Pure functions, no I/O. ``CleanedArticle.text`` starts with the headline as its own paragraph
(so a search for the headline finds the article), then the body, with exactly one blank line
between paragraphs; chunk offsets and citation quotes refer to this exact string.

Rules are general shapes (position, repetition, length, sentence punctuation, link density, or
regexes of phrases typical of page furniture), never one site's sentences. They are
conservative: a sentence-ended paragraph of ``PROSE_WORDS`` words or more is never dropped for
mentioning cookies, subscriptions or sharing, and no positional rule touches it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from itertools import pairwise

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


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’)\]]*$")
_QUOTE = re.compile(r"[“”„«»\"]")
# Whole short lines that are page furniture: ad slots, widget headers, share/print/tag lines.
_MARKER = _rx(
    r"advert(?:isement|ising)?|ads?|sponsored(?: content| post)?|promoted(?: content)?|paid (?:post|content)",
    r"(?:story|article) continues below.*|scroll to continue.*|continue reading(?: below)?",
    r"related(?: \w+){0,2}|(?:also |further )?read(?: more| next| also)?|see (?:also|more)",
    r"(?:more|latest|top|trending|popular|recommended|breaking|most (?:read|popular|viewed|shared))"
    r"(?: (?:news|stories|articles|headlines|posts|videos|reads|for you|from|on)\b.{0,40})?",
    r"you (?:may|might) (?:also )?(?:like|enjoy|be interested in).{0,20}|our picks|editor['’]?s['’]? picks",
    r"don['’]?t miss|in case you missed it|follow us(?: on .{1,40})?|(?:tags|topics|filed under):.*",
    r"share(?: this)?(?: article| story| post| page)?(?: on| via)?|print|e-?mail|\d* ?comments?",
    r"end of list|skip to (?:main )?content|back to top|menu|home|all rights reserved",
)
# Calls to action that open a line: paywalls, sign-in, newsletters, app promotions, captions.
_PROMPT = _rx(
    r"^(?:sign (?:up|in)|log ?in|subscribe|register (?:now|for free|to)|join (?:us|now|today|our))\b",
    r"^already (?:a (?:member|subscriber)|have an account|subscribed)\b",
    r"^(?:download|get|install) (?:the|our) (?:free )?app\b|^start (?:reading|your (?:free )?trial)\b",
    r"^list \d+ of \d+|^(?:enter|provide) your e-?mail|\bdelivered (?:straight |directly )?to your inbox\b",
    r"^(?:read more|continue reading|click here|see more|learn more|read next|also read|read also|more)\s*[:|]",
    r"\bto (?:continue )?read (?:this|the full|the rest of this) (?:article|story)\b",
    r"^this (?:article|content|story) is (?:only )?(?:for|available to) (?:subscribers|members)\b",
    r"^(?:photo|image|picture|video|photograph)s?(?: credit)?\s*:|^(?:©|\(c\)|copyright\s*(?:©|\d{4}))",
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
    r"^(?:published|updated|posted|last updated)\b.{0,60}\d.{0,30}$",
    r"^(?:\w{3,9},? )?(?:\d{1,2}(?:st|nd|rd|th)? \w{3,9}|\w{3,9} \d{1,2}(?:st|nd|rd|th)?),? \d{4}"
    r"(?:,? (?:at )?\d{1,2}[:.]\d{2}(?: ?[ap]\.?m\.?)?(?: \w{2,4})?)?$",
    r"^\d{4}-\d{2}-\d{2}(?:[T ][\d:.+Z-]+)?$|^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}$",
)
_BYLINE = re.compile(r"^(?:By|BY|by)\s+(?P<name>[A-Z][\w.'’-]*(?:(?:\s+|,\s*|\s+and\s+|\s*&\s*)[A-Z][\w.'’-]*){0,7})"
                     r"\s*(?:[|•·,–—-].*)?$")
_NAME_LINE = re.compile(r"^[A-Z][a-z’'.-]+(?: [A-Z][a-z’'.-]+){1,2}$")
_SECTION_WORDS = frozenset("news world politics business sport sports opinion latest breaking live home markets tech "
                           "technology science health entertainment culture travel europe asia africa americas middle "
                           "east west us uk video videos".split())


def _words(text: str) -> int:
    return len(text.split())


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


def _is_boilerplate(text: str) -> bool:
    """Vocabulary rules; each one is limited to short lines so running prose survives."""
    core, words = _core(text), _words(text)
    if words <= 10 and not _ends_sentence(core) and _MARKER.fullmatch(core):
        return True
    if words <= 25 and (_PROMPT.search(core) or _FIRST_APPEARED.search(core)):
        return True
    return (words <= 12 and bool(_DATELINE.search(core) or _is_share_bar(core))) or _is_cookie_banner(text)


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
    """The headline is the markup's title if present, else the first substantial line without a
    final full stop before the body starts (repeated, junk and byline lines excluded)."""
    if hint and (found := next((i for i in range(top) if _fold(paras[i]) == _fold(hint)), None)) is not None:
        return found
    head = [i for i in range(min(top, 15)) if i not in junk and (counts[paras[i].casefold()] == 1 or
            _words(paras[i]) > 6) and not _byline_of(paras[i]) and not _looks_like_name(paras[i])]
    for min_words in (4, 2):
        for i in head:
            if min_words <= _words(paras[i]) <= 30 and not re.search(r"[.,:;][\"'”’)\]]*$", paras[i]):
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


def _drop_indexes(paras: list[str], junk: set[int], title_at: int | None, publisher: str) -> set[int]:
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
        drop.update(i for i in range(last_prose + 1, len(paras))  # trailing headline-ish lines
                    if _words(paras[i]) <= SHORT_WORDS and not _ends_sentence(paras[i]) and paras[i][0] != "(")
    return drop - {title_at}


def _finish(paras: list[str], title: str = "", publisher: str = "", byline: str = "", published: str = "",
            removed: tuple[str, ...] = ()) -> CleanedArticle:
    """The paragraph rules and metadata detection shared by every input format."""
    paras = [p for p in paras if p]
    counts = Counter(p.casefold() for p in paras)
    junk = {i for i, p in enumerate(paras) if _is_boilerplate(p)}
    top = next((i for i, p in enumerate(paras) if i not in junk and _is_prose(p)), min(len(paras), 15))
    title_at = _find_title(paras, top, junk, counts, title)
    publisher = publisher or _find_publisher(paras, top, counts)
    byline = byline or _find_byline(paras, top, title_at, publisher)
    drop = _drop_indexes(paras, junk, title_at, publisher)
    title = title or (paras[title_at] if title_at is not None else "")
    kept = ([title] if title and title_at is None else []) + [p for i, p in enumerate(paras) if i not in drop]
    removed += tuple(p for i, p in enumerate(paras) if i in drop)
    return CleanedArticle("\n\n".join(kept), title, publisher, byline, published, removed)


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
    """Clean a plain-text article (one paragraph per line, blank-line separated, or hard-wrapped)."""
    return _finish(_paragraphs(_normalise_lines(raw)))


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
    are paragraphs of their own; a line that is only links (a "related" list) is dropped."""
    lines: list[str] = []
    removed: list[str] = []
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
    return _finish(_paragraphs(lines), removed=tuple(removed))


_SKIP_TAGS = frozenset("script style noscript template svg nav aside form iframe button select figure dialog "
                       "head".split())
_BLOCK_TAGS = frozenset("p div section article main h1 h2 h3 h4 h5 h6 li ul ol dl dt dd blockquote pre table tr td th "
                        "figcaption header footer address br hr".split())
_VOID_TAGS = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_CHROME_ROLES = frozenset("navigation banner complementary contentinfo dialog alertdialog search".split())
_CHROME_TOKENS = frozenset("share sharing sharebar social related newsletter cookie cookies consent gdpr ad ads "
                           "advert advertisement adslot promo promotion subscribe signup comments sidebar popup modal "
                           "outbrain taboola sponsored recommended breadcrumb breadcrumbs nav navbar navigation "
                           "menu".split())
_DATE_KEYS = ("article:published_time", "datepublished", "date", "pubdate", "publishdate", "dc.date.issued",
              "parsely-pub-date", "sailthru.date", "og:published_time", "time")


class _HtmlParagraphs(HTMLParser):
    """Collects block-level text outside page chrome, drops link-list blocks, and reads meta tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self.removed: list[str] = []
        self.meta: dict[str, str] = {}
        self.title_tag = self.h1 = ""
        self._stack: list[tuple[str, bool]] = []  # (tag, inside a skipped subtree)
        self._buf: list[str] = []
        self._link_chars = 0

    def _open(self, *tags: str) -> bool:
        return any(t in tags for t, _ in self._stack)

    def _is_chrome(self, tag: str, attrs: dict[str, str]) -> bool:
        """Navigation, sidebars, share bars, ads, cookie and newsletter boxes, hidden elements;
        <header>/<footer> only outside the article, where they belong to the page."""
        if tag in _SKIP_TAGS or (tag in ("header", "footer") and not self._open("article", "main")):
            return True
        if "hidden" in attrs or attrs.get("aria-hidden") == "true" or attrs.get("role") in _CHROME_ROLES:
            return True
        names = re.sub(r"([a-z])([A-Z])", r"\1 \2", f"{attrs.get('class', '')} {attrs.get('id', '')}").lower()
        tokens = set(re.split(r"[\s_-]+", names))
        return tag not in ("html", "body", "main", "article") and bool(_CHROME_TOKENS & tokens)

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        key = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or "").lower()
        if tag in _BLOCK_TAGS:
            self._flush()
        skipping = bool(self._stack and self._stack[-1][1]) or self._is_chrome(tag, attrs)
        if (value := attrs.get("content") or attrs.get("datetime")) and (tag == "meta" or not skipping):
            self.meta.setdefault("time" if tag == "time" and not key else key, value.strip())
        if tag not in _VOID_TAGS:
            self._stack.append((tag, skipping))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID_TAGS or not self._open(tag):
            return
        if tag in _BLOCK_TAGS:
            self._flush()
        while self._stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self._stack and self._stack[-1][0] == "title":
            self.title_tag += data
        if self._stack and not self._stack[-1][1]:
            self._buf.append(data)
            self._link_chars += len(" ".join(data.split())) if self._open("a") else 0

    def _flush(self) -> None:
        """End a block; an unpunctuated block that is mostly link text is a list of links."""
        text = " ".join("".join(self._buf).split())
        link_list = self._link_chars >= 0.6 * len(text) and not _ends_sentence(text) and not self._open("h1")
        self._buf, self._link_chars = [], 0
        self.h1 = self.h1 or (text if self._open("h1") else "")
        if text:
            (self.removed if link_list else self.paragraphs).append(text)

    def close(self) -> None:
        super().close()
        self._flush()


def _iso_date(value: str) -> str:
    """ISO-8601 of a plausible date, or "" (one parser for every input: ``rag.dates``)."""
    from rag.dates import iso_date

    return iso_date(value)


def clean_html(raw: str) -> CleanedArticle:
    """Clean an HTML page: block text outside page chrome, then the line rules. Title from og:title,
    the first <h1> or <title> (minus " | Site"); publisher from og:site_name; date from meta or <time>."""
    parser = _HtmlParagraphs()
    parser.feed(raw)
    parser.close()
    meta = parser.meta
    title = meta.get("og:title") or meta.get("twitter:title") or parser.h1
    if not title and parser.title_tag.strip():
        title = max(re.split(r"\s+[|–—-]\s+", parser.title_tag.strip()), key=len)
    author = meta.get("author") or meta.get("article:author") or meta.get("parsely-author") or ""
    return _finish(
        [line for p in parser.paragraphs for line in _normalise_lines(p) if line],
        title=" ".join(unicodedata.normalize("NFC", title).split()),
        publisher=meta.get("og:site_name") or meta.get("application-name") or "",
        byline="" if "://" in author else author,
        published=next((iso for key in _DATE_KEYS if (iso := _iso_date(meta.get(key, "")))), ""),
        removed=tuple(parser.removed),
    )
