"""Read article files into cleaned ``Article`` objects.

Every failure of one file becomes ``FileRejected`` with a reason a person can act on, so the
ingestion of the other files goes on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from html import unescape
from pathlib import Path

from rag.cleaning import CleanedArticle, clean_html, clean_markdown, clean_text
from rag.dates import DateError, parse_date, to_epoch
from rag.decoding import decode_bytes
from rag.errors import FileRejected
from rag.text import split_sentences, whole_characters
from rag.types import Article

MB = 2**20  # RAG_MAX_FILE_MB counts in these (Settings.max_file_bytes), so messages must too
SUPPORTED_SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown",
                      ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".json": "json"}
# Where a JSON file's articles may sit: an array, or an object holding one under these names (NewsAPI's
# "articles"), or one article object.
_JSON_LISTS = ("articles", "items", "data", "results", "documents", "posts")
# A JSON Lines article's fields, the first one present winning: this project's own names, then those of
# the news datasets and feeds a user is likely to hold: Hugging Face's summarisation sets ("document":
# XSum and HaluEval's CNN/DailyMail; "article": CNN/DailyMail), news-please ("maintext", "date_publish",
# "source_domain"), NewsAPI ("publishedAt", "source": {"name": ...}) and schema.org's NewsArticle, which
# news sites embed as JSON-LD ("articleBody", "datePublished", "publisher": {"name": ...}).
_TEXT_FIELDS = ("text", "content", "body", "article", "document", "maintext", "articleBody", "story")
_TITLE_FIELDS = ("title", "headline")
_DATE_FIELDS = ("published", "date", "published_at", "publishedAt", "datePublished", "date_publish", "pubDate")
_PUBLISHER_FIELDS = ("source", "publisher", "source_domain")
_URL_FIELDS = ("url", "link")
# NewsAPI cuts "content" to 200 characters and says so in words a reader would take for the article's.
_NEWSAPI_CUT = re.compile(r"\s*(?:…|\.\.\.)?\s*\[\+\d+ chars\]\s*$")
_MARKUP = re.compile(r"</?(?:p|br|div|span|a|b|i|em|strong|li|ul|ol|h[1-6]|blockquote|figure|img|script|style|table)"
                     r"\b[^<>]*>|&(?:amp|nbsp|quot|#\d+|#x[0-9a-f]+);", re.IGNORECASE)
_CLEANERS = {"text": clean_text, "markdown": clean_markdown, "html": clean_html}
_TAG = re.compile(r"<[^<>]*>")

Warn = Callable[[str], None]  # says what an article being read was indexed without (its date), and why

__all__ = ["LoadedFile", "decode_bytes", "doc_id_for", "find_files", "load_file", "parse_date", "read_file"]


@dataclass
class LoadedFile:
    """What one file gave: its articles, each with where it came from (a path, or "feed.jsonl line 3"),
    and the lines that were skipped. ``collection`` is set for a JSON Lines file: the file is the whole
    set of its articles, so ingestion removes those it no longer holds."""

    articles: list[tuple[str, Article]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (where, what an article was kept without)
    collection: str | None = None


def find_files(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand directories recursively; return (supported files, (path, reason) for everything else).

    Every entry under a walked folder gets one of the two outcomes, so nothing is silently ignored;
    a hidden folder (.git) is reported once, not file by file.
    """
    found: list[Path] = []
    rejected: list[tuple[Path, str]] = []
    for path in paths:
        try:
            is_dir = path.is_dir()
        except OSError as exc:  # a link into /proc, a folder it may not enter: the others still count
            rejected.append((path, _unreadable(exc)))
            continue
        entries = _walk(path) if is_dir else [(path, _file_reason(path))]
        for child, reason in entries:
            (rejected.append((child, reason)) if reason else found.append(child))
    return found, rejected


def _file_reason(path: Path) -> str | None:
    """None for an article file, else why ``path`` is skipped; never raises (a link to a place this
    user may not read raised PermissionError from ``exists()`` and stopped the whole run)."""
    try:
        if path.is_file():
            return _unsupported(path)
        if path.is_symlink():
            return "broken symbolic link: its target does not exist"
        if path.exists():
            return "not a regular file (a device, socket or pipe)"
        return "no such file or directory"
    except OSError as exc:
        return _unreadable(exc)


def unforeseen_reason(exc: Exception) -> str:
    """Why a file or item failed in a way no check foresaw. A missing module is the install's fault, not
    the file's: with ``lxml_html_clean`` gone, every HTML file read "cannot be read (ImportError: ...)"."""
    if isinstance(exc, ImportError):
        return (f"cannot be read: this installation is missing a package ({exc}); install news-rag again "
                "(pip install -e . or pip install news-rag) and ingest again")
    return f"cannot be read ({type(exc).__name__}: {exc})"


def _unreadable(exc: OSError) -> str:
    return f"cannot be read: {exc.strerror or exc}"


def _walk(folder: Path) -> Iterator[tuple[Path, str | None]]:
    """Each entry under ``folder`` in name order, with None (an article file) or why it is skipped."""
    problems: list[OSError] = []
    for root, dirs, files in os.walk(folder, onerror=problems.append):
        base = Path(root)
        for name in sorted(dirs):
            if name.startswith("."):
                yield base / name, "hidden folder: not read"
            elif (base / name).is_symlink():
                yield base / name, "link to a folder: not followed (name it on the command line to ingest it)"
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (base / d).is_symlink())
        for name in sorted(files):
            child = base / name
            yield child, "hidden file: not read" if name.startswith(".") else _file_reason(child)
        for error in problems:
            yield Path(error.filename or root), f"cannot read the folder: {error.strerror or error}"
        problems.clear()


def _unsupported(path: Path) -> str | None:
    if path.suffix.lower() in SUPPORTED_SUFFIXES:
        return None
    return f"unsupported file type '{path.suffix or 'none'}' (supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"


def load_file(path: Path, max_bytes: int, max_collection_bytes: int | None = None) -> list[Article]:
    """Read, decode and clean one file. A .jsonl file yields one article per usable line."""
    return [article for _, article in read_file(path, max_bytes, max_collection_bytes).articles]


def read_file(path: Path, max_bytes: int, max_collection_bytes: int | None = None) -> LoadedFile:
    """``load_file`` with the skipped JSON lines and their reasons (for the ingestion report).

    ``max_bytes`` holds an article: a whole file, or one item of a collection (.jsonl, .json), whose file
    is held to ``max_collection_bytes`` instead (default: ``max_bytes``). A dataset's JSON Lines file
    is tens of megabytes of ordinary articles; one limit for both made users raise the article limit."""
    kind = SUPPORTED_SUFFIXES[path.suffix.lower()]
    if kind in ("jsonl", "json"):
        data = _read_bytes(path, max_collection_bytes or max_bytes, "RAG_MAX_COLLECTION_MB")
    else:
        data = _read_bytes(path, max_bytes, "RAG_MAX_FILE_MB")
    text = decode_bytes(data, path)
    del data  # a collection may be hundreds of megabytes: keep one copy, not two
    source = str(path.resolve())
    if kind == "jsonl":
        return _articles_from_jsonl(text, source, path, max_bytes)
    if kind == "json":
        return _articles_from_json(text, source, path, max_bytes)
    cleaned = _CLEANERS[kind](text)
    loaded = LoadedFile(articles=[(str(path), _make_article(cleaned, source, path.name))])
    if cleaned.unread_date:  # front matter's or a "Date:" line's
        _article_date(cleaned.unread_date, partial(_note, loaded.warnings, str(path)))
    return loaded


def _read_bytes(path: Path, max_bytes: int, setting: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FileRejected(f"file is {size / MB:.1f} MB, above the {max_bytes / MB:g} MB limit "
                               f"(raise {setting} to accept it)")
        data = path.read_bytes()
    except PermissionError as exc:
        raise FileRejected(f"cannot read the file: permission denied ({exc.strerror})") from exc
    except OSError as exc:
        raise FileRejected(f"cannot read the file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise FileRejected("file is empty")
    return data


def _articles_from_jsonl(text: str, source: str, path: Path, max_bytes: int) -> LoadedFile:
    """One article per line, keyed by its id, else its url, else its text (never its line number, so
    inserting a line does not re-key every later one). A bad line is skipped with its reason."""
    # Lines end at "\n" only: str.splitlines also cuts at U+2028, U+0085 and the like, which JSON allows
    # raw inside a string (and feeds carry), so it broke such an article into two "not JSON" lines.
    lines = ((f"line {n}", line) for n, line in enumerate(text.split("\n"), start=1) if line.strip())
    return _collection(((label, partial(_article_from_line, line, source, path.name, max_bytes))
                        for label, line in lines),
                        path, source, empty="no lines")


def _articles_from_json(text: str, source: str, path: Path, max_bytes: int) -> LoadedFile:
    """A JSON file of articles (``_JSON_LISTS``), read as a JSON Lines file's lines are: the same
    fields and keys, the file a collection, a bad item skipped with its reason."""
    try:
        data = _json_value(text)
    except json.JSONDecodeError as exc:
        raise FileRejected(f"not JSON ({exc.msg} at line {exc.lineno})") from exc
    records = _json_articles(data)
    if records is None:
        raise FileRejected("no articles: a .json file holds an array of articles, one article, or an object with "
                           f"an array under one of {', '.join(_JSON_LISTS)}")
    items = ((f"item {n}", partial(_article_from_record, record, source, path.name, max_bytes))
             for n, record in enumerate(records, start=1))
    return _collection(items, path, source, empty="no articles (an empty array)")


def _json_articles(data: object) -> list[object] | None:
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        return None
    for key in _JSON_LISTS:
        if isinstance(data.get(key), list):
            return data[key]  # type: ignore[no-any-return]
    return [data] if _find_field(data, _TEXT_FIELDS).text else None


def _collection(items: Iterable[tuple[str, Callable[[Warn], Article]]], path: Path, source: str,
                empty: str) -> LoadedFile:
    """The articles of a collection file (JSON Lines or JSON), each read by its own call, given a way to
    warn of what it kept the article without: one unreadable item is skipped with its reason, never the
    others; no usable item at all rejects the file."""
    loaded = LoadedFile(collection=source)
    brief: list[str] = []  # "line 3: not JSON", for the message when no item at all is usable
    for label, read in items:
        where = f"{path} {label}"
        try:
            loaded.articles.append((where, read(partial(_note, loaded.warnings, where))))
            continue
        except FileRejected as exc:
            reason = str(exc)
        except Exception as exc:  # noqa: BLE001  one unforeseen bad item must not cost the others
            reason = unforeseen_reason(exc)
        loaded.problems.append((where, reason))
        brief.append(f"{label}: {reason}")
    if not loaded.articles:
        raise FileRejected("no usable articles: " + "; ".join(brief[:3]) if brief else empty)
    if len(loaded.articles) > 1:  # the file's name names none of its articles: an untitled one gets its lead
        loaded.articles = [(where, replace(article, title=lead_title(article.text)) if article.title == path.stem
                            else article) for where, article in loaded.articles]
    return loaded


LEAD_TITLE_WORDS = 12
LEAD_TITLE_MIN_WORDS = 4


def lead_title(text: str) -> str:
    """An untitled article's opening sentence, cut to its first words, as news readers title one.

    Shown in citations and the library, embedded with each passage, and the excerpt's header in the prompt.
    Registered on 58 questions of news_dev's tuning half over 400 articles in one file: 26 right and 4 wrong at
    0.73 against 25 and 3 (and one near-miss answered) with the file's name as every title; the report half
    did not repeat it (19 and 2 against 22 and 1), kept all both halves are equal (eval/EXPERIMENTS.md)."""
    opening = text[:1000]  # the first sentence is in it; an article may be megabytes long
    words: list[str] = []
    for sentence in [span.text for span in split_sentences(opening)] or [opening]:
        # A dateline or a one-word lede ("Kigali, Tuesday.", "Panic.", "The Rev." cut at its point) names
        # no story: the sentences after it join it. 51 of HaluEval's first 5,000 CNN articles open so.
        words += sentence.split()
        if len(words) >= LEAD_TITLE_MIN_WORDS:
            break
    return " ".join(words[:LEAD_TITLE_WORDS]) + ("…" if len(words) > LEAD_TITLE_WORDS else "")


def _json_value(text: str) -> object:
    """Parsed JSON whose strings are whole characters (``whole_characters``)."""
    def whole(value: object) -> object:
        if isinstance(value, str):
            return whole_characters(value)
        if isinstance(value, list):
            return [whole(item) for item in value]
        if isinstance(value, dict):
            return {whole_characters(key): whole(item) for key, item in value.items()}
        return value

    return whole(json.loads(text))


def _article_from_line(line: str, source: str, name: str, max_bytes: int, warn: Warn) -> Article:
    try:
        record = _json_value(line)
    except json.JSONDecodeError as exc:
        hint = ("; a JSON array written over several lines is a .json file, not JSON Lines: rename it"
                if line.strip() in ("[", "{") else "")
        raise FileRejected(f"not JSON ({exc.msg}){hint}") from exc
    return _article_from_record(record, source, name, max_bytes, warn)


def _article_from_record(record: object, source: str, name: str, max_bytes: int, warn: Warn) -> Article:
    """One item of a collection. Its title, date, publisher, url and id are read from the object its text
    was found in, then from those around it: ``{"article": {"title", "text", "date"}}`` lost its title and date."""
    if not isinstance(record, dict):  # a null or a number in the array: "no text field" sent users looking for one
        raise FileRejected(f"not an article object but {json.dumps(record)[:40]}")
    found = _find_field(record, _TEXT_FIELDS)
    body = found.text
    if not body:
        if any(name in record for name in _TEXT_FIELDS):
            raise FileRejected("its text field is empty")
        raise FileRejected(f"no text field (one of {', '.join(_TEXT_FIELDS)})")
    size = len(body.encode("utf-8", errors="replace"))
    if size > max_bytes:
        raise FileRejected(f"its text is {size / MB:.1f} MB, above the {max_bytes / MB:g} MB limit for an "
                           "article (raise RAG_MAX_FILE_MB to accept it)")
    body = _NEWSAPI_CUT.sub("", body)
    cleaned = (clean_html if _holds_markup(body) else clean_text)(body)
    if not readable(cleaned.text):
        raise FileRejected("text is empty")
    holders = found.holders
    url = _text_in(holders, _URL_FIELDS).text
    key = str(_value_in(holders, ("id",)) or url or "")
    if not key:
        key = "sha256:" + hashlib.sha256(cleaned.text.encode("utf-8")).hexdigest()[:16]
    publisher = _value_in(holders, _PUBLISHER_FIELDS) or ""
    if isinstance(publisher, dict):  # NewsAPI's {"id": "bbc-news", "name": "BBC News"}, schema.org's Organization
        publisher = publisher.get("name") or publisher.get("id") or ""
    return _make_article(cleaned, f"{source}#{key}", name, title=_title_in(holders), publisher=str(publisher),
                         url=url, published=_article_date(_value_in(holders, _DATE_FIELDS), warn))


def _article_date(value: object, warn: Warn) -> int | None:
    """An article's own date, or None with a warning (for the ingestion report) naming the value. One
    unreadable date ("N/A", "03/04/2024") cost the whole article; a search filter's date stays strict
    (``to_epoch``)."""
    try:
        return to_epoch(value)
    except DateError as exc:
        warn(f"indexed without a date: its date {exc}")
        return None


def _note(warnings: list[tuple[str, str]], where: str, message: str) -> None:
    """Keep a warning for the ingestion report, which every caller shows (a log line as well printed it twice)."""
    warnings.append((where, message))


def _title_in(holders: list[dict]) -> str:  # type: ignore[type-arg]
    """The title nearest the text; one from an HTML field (WordPress's ``title.rendered``) as a reader sees it."""
    found = _text_in(holders, _TITLE_FIELDS)
    return _plain_text(found.text) if found.is_html else found.text


def _plain_text(markup: str) -> str:
    """A short HTML field as text: tags gone, entities decoded ("Harbour &#8211; ferry" had its "&#8211;")."""
    return " ".join(unescape(_TAG.sub("", markup)).split())


def _holds_markup(body: str) -> bool:
    """A feed's text that is HTML (WordPress and RSS exports: "<p>…</p>", "&amp;"): read as a page, not
    as text, or its tags, entities and scripts were indexed as words."""
    return len(_MARKUP.findall(body[:20_000])) >= 2


@dataclass(frozen=True)
class _Found:
    """A field's text and the way to it: the (object, key) pairs from the record down to the text."""

    text: str = ""
    path: tuple[tuple[dict, str], ...] = ()  # type: ignore[type-arg]

    @property
    def holders(self) -> list[dict]:  # type: ignore[type-arg]
        """The objects the text was found through, innermost first: where its article's other fields are."""
        return [holder for holder, _ in reversed(self.path)]

    @property
    def is_html(self) -> bool:
        """Whether the text came from a ``rendered`` field, which holds HTML (WordPress's REST API)."""
        return any(key == "rendered" for _, key in self.path)


def _find_field(record: dict, fields: tuple[str, ...]) -> _Found:  # type: ignore[type-arg]
    """The first of ``fields`` holding text. Text is a non-blank string, a list of them (a feed's
    paragraphs) or an object holding one under the same names or "rendered" (WordPress's
    ``{"content": {"rendered": "<p>…"}}``, a nested ``{"article": {"text": …}}``): each was refused
    as "no text field" although the field was there."""
    for name in fields:
        found = _found_in(record.get(name), fields)
        if found.text:
            return _Found(found.text, ((record, name), *found.path))
    return _Found()


def _found_in(value: object, fields: tuple[str, ...], depth: int = 0) -> _Found:
    if isinstance(value, str):
        return _Found(value if value.strip() else "")
    if isinstance(value, list) and value and all(isinstance(part, str) for part in value):
        return _Found("\n\n".join(part.strip() for part in value if part.strip()))
    if isinstance(value, dict) and depth < 2:
        for name in ("rendered", *fields):
            found = _found_in(value.get(name), fields, depth + 1)
            if found.text:
                return _Found(found.text, ((value, name), *found.path))
    return _Found()


def _text_in(holders: list[dict], fields: tuple[str, ...]) -> _Found:  # type: ignore[type-arg]
    """``_find_field`` in the first of ``holders`` (innermost first) that has one of ``fields``."""
    for holder in holders:
        if (found := _find_field(holder, fields)).text:
            return found
    return _Found()


def _value_in(holders: list[dict], fields: tuple[str, ...]) -> object:  # type: ignore[type-arg]
    """The first of ``fields`` set (not None, "" or empty) in the first of ``holders`` that sets one."""
    for holder in holders:
        for name in fields:
            value = holder.get(name)
            if value not in (None, "", [], {}):
                return value
    return None


def readable(text: str) -> bool:
    """Whether ``text`` holds a letter or a digit, in any script: a file of zero-width characters (or
    emoji) was indexed as an article, and a question of one zero-width space was answered from it."""
    return any(character.isalnum() for character in text)


def has_body(text: str, *titles: str) -> bool:
    """Whether ``text`` holds a readable paragraph besides the ``titles`` its metadata gave it. Front matter
    with no body, and a page whose menus, cookie banner and footer were all removed, were indexed as their
    title alone: an article with nothing to answer from, found by every search for its words. A text that
    is one short line of its own (a JSON record's text) is its body, whatever the cleaner took as title."""
    headlines = {" ".join(title.casefold().split()) for title in titles if title}
    return any(readable(paragraph) and " ".join(paragraph.casefold().split()) not in headlines
               for paragraph in text.split("\n\n"))


def _make_article(cleaned: CleanedArticle, source: str, name: str, *, title: str = "",
                  publisher: str = "", url: str = "", published: int | None = None) -> Article:
    if not readable(cleaned.text):
        raise FileRejected("no article text left after removing boilerplate")
    headlines = [given for given in (title, cleaned.title if cleaned.title_given else "") if given]
    if not has_body(cleaned.text, *headlines):
        raise FileRejected(f"no article text besides its title {headlines[0]!r}: the body is empty or only page "
                           "furniture (menus, cookie notices, footers)")
    return Article(
        doc_id=doc_id_for(source),
        text=cleaned.text,
        source=source,
        source_name=name,
        title=title or cleaned.title or Path(name).stem,
        sha256=hashlib.sha256(cleaned.text.encode("utf-8")).hexdigest(),
        publisher=publisher or cleaned.publisher,
        byline=cleaned.byline,
        url=url,
        published=published if published is not None else parse_date(cleaned.published),
    )


def doc_id_for(source: str) -> str:
    """Stable id from where the article came from, so a changed file replaces its old version."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
