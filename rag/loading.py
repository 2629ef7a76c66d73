"""Read article files into cleaned ``Article`` objects.

Every failure of one file becomes ``FileRejected`` with a reason a person can act on, so the
ingestion of the other files goes on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from charset_normalizer import from_bytes

from rag.cleaning import CleanedArticle, clean_html, clean_markdown, clean_text
from rag.errors import FileRejected
from rag.types import Article

SUPPORTED_SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown",
                      ".html": "html", ".htm": "html", ".jsonl": "jsonl"}
_TEXT_FIELDS = ("text", "content", "body", "article")
_NON_LATIN = ("Cyrillic", "Greek", "Arabic", "Hebrew", "CJK", "Hiragana", "Katakana", "Hangul", "Thai", "Devanagari")
_CLEANERS = {"text": clean_text, "markdown": clean_markdown, "html": clean_html}


def find_files(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand directories recursively; return (supported files, (path, reason) for the rest)."""
    found: list[Path] = []
    rejected: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if any(part.startswith(".") for part in child.relative_to(path).parts):
                    continue  # hidden files and folders (.git, .DS_Store) are never articles
                if child.suffix.lower() in SUPPORTED_SUFFIXES:
                    found.append(child)
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(path)
            else:
                rejected.append((path, f"unsupported file type '{path.suffix or 'none'}' "
                                       f"(supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"))
        else:
            rejected.append((path, "no such file or directory"))
    return found, rejected


def load_file(path: Path, max_bytes: int) -> list[Article]:
    """Read, decode and clean one file. A .jsonl file yields one article per line."""
    data = _read_bytes(path, max_bytes)
    text = decode_bytes(data, path)
    kind = SUPPORTED_SUFFIXES[path.suffix.lower()]
    source = str(path.resolve())
    if kind == "jsonl":
        return list(_articles_from_jsonl(text, source, path.name))
    article = _make_article(_CLEANERS[kind](text), source, path.name)
    return [article]


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FileRejected(f"file is {size / 1e6:.1f} MB, above the {max_bytes / 1e6:.1f} MB limit "
                               "(raise RAG_MAX_FILE_MB to accept it)")
        data = path.read_bytes()
    except PermissionError as exc:
        raise FileRejected(f"cannot read the file: permission denied ({exc.strerror})") from exc
    except OSError as exc:
        raise FileRejected(f"cannot read the file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise FileRejected("file is empty")
    return data


def decode_bytes(data: bytes, path: Path | None = None) -> str:
    """UTF-8 when valid; otherwise the most likely legacy encoding, so mis-encoded text is kept."""
    if looks_binary(data):
        raise FileRejected("file looks binary (not text): NUL bytes or control characters")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is not None and any(script in alphabet for alphabet in best.alphabets for script in _NON_LATIN):
        return str(best)  # e.g. cp1251 Cyrillic or Shift-JIS: the detector is reliable there
    # Among Latin code pages the detector guesses at random on short texts (cp775 for "Café");
    # cp1252 is what Western news files almost always are.
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        if best is not None:
            return str(best)
    # cp1252 maps almost every byte; a last resort that keeps the words readable
    return data.decode("cp1252", errors="replace")


def looks_binary(data: bytes, sample: int = 8192) -> bool:
    """NUL bytes, or more than 10% control characters in the first block, mean binary."""
    head = data[:sample]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(head) * 0.10


def _articles_from_jsonl(text: str, source: str, name: str) -> Iterator[Article]:
    produced = 0
    problems: list[str] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {line_no}: not JSON ({exc.msg})")
            continue
        body = _first_text_field(record)
        if body is None:
            problems.append(f"line {line_no}: no text field (one of {', '.join(_TEXT_FIELDS)})")
            continue
        cleaned = clean_text(body)
        if not cleaned.text.strip():
            problems.append(f"line {line_no}: text is empty")
            continue
        key = str(record.get("id") or record.get("url") or f"line{line_no}")
        yield _make_article(cleaned, f"{source}#{key}", name,
                            title=str(record.get("title") or ""),
                            publisher=str(record.get("source") or record.get("publisher") or ""),
                            url=str(record.get("url") or ""),
                            published=record.get("published") or record.get("date"))
        produced += 1
    if not produced:
        raise FileRejected("no usable articles: " + "; ".join(problems[:3]) if problems else "no lines")


def _first_text_field(record: object) -> str | None:
    if not isinstance(record, dict):
        return None
    for field in _TEXT_FIELDS:
        value = record.get(field)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _make_article(cleaned: CleanedArticle, source: str, name: str, *, title: str = "",
                  publisher: str = "", url: str = "", published: object = None) -> Article:
    if not cleaned.text.strip():
        raise FileRejected("no article text left after removing boilerplate")
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
        published=parse_date(published or cleaned.published),
    )


def doc_id_for(source: str) -> str:
    """Stable id from where the article came from, so a changed file replaces its old version."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def parse_date(value: object) -> int | None:
    """ISO-8601, RFC 2822 or epoch seconds to epoch seconds (Chroma filters numbers only)."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp())
