"""Bytes of an article file to text, whatever encoding an archive was saved in.

Order of belief: a byte-order mark; valid UTF-8; the charset an HTML page declares; UTF-8 with a few
broken bytes (a feed with one bad line, a file cut mid-character: before, one bad byte sent the whole
file to a legacy code page and every non-ASCII letter became mojibake); then a legacy code page.

charset-normalizer is reliable for non-Latin scripts (cp1251 Cyrillic, Shift-JIS, GBK) but guesses at
random among Latin code pages on news-length texts (cp775 for "Café", mac_roman for German), where
cp1252 used to be taken whatever the language: Polish "zatwierdziła budżet" came out "zatwierdzi³a
bud¿et". So the Latin pages are ranked here by how many decoded characters are neither letters nor the
punctuation news text uses, which a wrong page produces in the middle of words.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from pathlib import Path

from charset_normalizer import from_bytes

from rag.errors import FileRejected

log = logging.getLogger(__name__)

# Byte-order marks, longest first (the UTF-32-LE mark starts with the UTF-16-LE one). UTF-16/32 text is
# full of NUL bytes, so it must be recognised before the binary check.
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
         (b"\xfe\xff", "utf-16"))
_NON_LATIN = ("Cyrillic", "Greek", "Arabic", "Hebrew", "CJK", "Hiragana", "Katakana", "Hangul", "Thai", "Devanagari")
# Western first (what news files almost always are), then Central European, ISO before Windows: cp1250
# text's š and ś are C1 controls in ISO-8859-2 (odd), while ISO's š and ž read as cp1250's letters ą and ľ
# (a tie), then Turkish. A tie between them goes to the earlier; every page added is one more
# way to misread the others (Baltic cp1257 won Turkish sentences), so the list is short.
LATIN_PAGES = ("cp1252", "iso8859_2", "cp1250", "cp1254")
# Non-letters news text does use above ASCII; any other (³ ¹ ¾ ± ¶, C1 controls) is a sign of a wrong page.
_NEWS_SYMBOLS = set("\u00a0«»‹›‘’‚“”„–—…•·€£¥¢§°©®™×÷¼½¾′″\u2009\u202f")
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
LATIN_SAMPLE_BYTES = 256 * 1024  # enough text to tell the pages apart; a file may be a gigabyte
# At most this share of the non-ASCII characters broken, for text to count as UTF-8: legacy text holds
# valid UTF-8 sequences only by rare chance (an "É" before a "’"), so nearly all of its are broken.
MOSTLY_UTF8 = 0.25
# NUL bytes a text file may hold as strays: at most this many, or 1% of its first block if more.
STRAY_NULS = 4


def decode_bytes(data: bytes, path: Path | None = None) -> str:
    """The text of an article file; raises ``FileRejected`` for binary data or a broken byte-order mark."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)  # the codec reads the mark for the byte order and drops it
            except UnicodeDecodeError as exc:
                raise FileRejected(f"starts with a {codec.upper()} byte-order mark but is not valid "
                                   f"{codec.upper()} (byte {exc.start})") from exc
    if (text := utf16_without_mark(data)) is not None:
        return text
    if looks_binary(data):
        raise FileRejected("file looks binary (not text): NUL bytes or control characters; if it is UTF-16 "
                           "text, save it with a byte-order mark or as UTF-8")
    if b"\x00" in data:  # strays (see stray_nuls_in_utf8): a NUL is never part of a UTF-8 character
        log.warning("%s: %d NUL byte(s) removed", path or "text", data.count(0))
        data = data.replace(b"\x00", b"")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = declared_charset(data) if path is not None and path.suffix.lower() in (".html", ".htm") else None
    if declared is not None:
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            pass
    mostly = mostly_utf8(data)
    if mostly is not None:
        log.warning("%s: %d byte(s) are not valid UTF-8 and were replaced by \ufffd; the rest is UTF-8",
                    path or "text", mostly.count("\ufffd"))
        return mostly
    return legacy_text(data)


def utf16_without_mark(data: bytes, sample: int = 4096) -> str | None:
    """UTF-16 saved without a byte-order mark (Windows tools do), told by its NUL bytes: text in a Latin or
    Cyrillic script has one in nearly every high (or, big-endian, low) byte and none in the others. It was
    refused as binary. None for anything else."""
    head = data[:sample - sample % 2]
    half = len(head) // 2
    if half < 8 or len(data) % 2:
        return None
    low_nuls, high_nuls = head[0::2].count(0), head[1::2].count(0)
    codec = ("utf-16-le" if high_nuls > 0.4 * half and low_nuls < 0.02 * half else
             "utf-16-be" if low_nuls > 0.4 * half and high_nuls < 0.02 * half else None)
    if codec is None:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return None if looks_binary(text[:sample].encode("utf-8", errors="replace")) else text


def reads_as_text(data: bytes) -> bool:
    """Whether ``decode_bytes`` would take these (first) bytes for text, without decoding them all: the
    upload check, which refused UTF-16 (full of NUL bytes) as binary before the decoder could read it."""
    head = data[:8192]
    return (any(head.startswith(bom) for bom, _ in _BOMS) or utf16_without_mark(head) is not None
            or not looks_binary(head))


def looks_binary(data: bytes, sample: int = 8192) -> bool:
    """More than 10% control characters in the first block, or NUL bytes that are not strays in UTF-8
    text, mean binary."""
    head = data[:sample]
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if controls > len(head) * 0.10:
        return True
    return b"\x00" in head and not stray_nuls_in_utf8(head)


def stray_nuls_in_utf8(head: bytes) -> bool:
    """A few NUL bytes in otherwise valid UTF-8 text: a scraper's or a database export's artefact, which
    made a whole article "binary". Binary formats hold NULs by the dozen, or bytes that are not UTF-8
    (images, PDFs, archives, compressed streams) within their first few hundred bytes."""
    if head.count(0) > max(STRAY_NULS, len(head) // 100):
        return False
    try:  # not final: the block may end inside a character
        codecs.getincrementaldecoder("utf-8")().decode(head.replace(b"\x00", b""), final=False)
    except UnicodeDecodeError:
        return False
    return True


def declared_charset(data: bytes, head: int = 4096) -> str | None:
    """The codec an HTML page's ``<meta charset>`` or ``http-equiv`` names in its head, if Python knows it."""
    match = _DECLARED.search(data[:head])
    if match is None:
        return None
    try:
        return codecs.lookup(match.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None


def mostly_utf8(data: bytes) -> str | None:
    """The text as UTF-8 with broken bytes replaced, when nearly all of its non-ASCII bytes are valid UTF-8
    sequences; None when it is likely another encoding (legacy text is almost never valid UTF-8 by chance)."""
    text = data.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))  # in C: a collection may be a gigabyte
    valid = non_ascii - broken
    return text if valid > 0 and broken <= MOSTLY_UTF8 * non_ascii else None


def legacy_text(data: bytes) -> str:
    """A legacy code page's text: the detector's choice for non-Latin scripts, else the Latin page whose
    decoding reads most like text."""
    sample = data[:LATIN_SAMPLE_BYTES]  # encodings are judged on the opening; the winner reads it all
    best = from_bytes(sample).best()
    if best is not None and any(script in alphabet for alphabet in best.alphabets for script in _NON_LATIN):
        # e.g. cp1251 Cyrillic or Shift-JIS: the detector is reliable there
        return data.decode(best.encoding, errors="replace")
    # The detector reports one page per distinct decoding, so its measures are looked up by the text.
    judged = {str(match): (round(match.chaos, 2), -round(match.coherence, 2))
              for match in from_bytes(sample, cp_isolation=list(LATIN_PAGES))}
    candidates = []
    for rank, page in enumerate(LATIN_PAGES):
        try:
            text = sample.decode(page)
        except UnicodeDecodeError:
            continue
        # Fewest odd characters; then the detector's chaos and its letter-frequency coherence (Turkish
        # ı ş read as cp1252 are the letters ý þ, which only those find improbable); then the order.
        candidates.append((odd_characters(text), *judged.get(text, (1.0, 0.0)), rank, page))
    for *_, page in sorted(candidates):  # the best page that reads the whole file, decoded once
        try:
            return data.decode(page)
        except UnicodeDecodeError:
            continue
    return data.decode(best.encoding if best is not None else "cp1252", errors="replace")


def odd_characters(text: str) -> int:
    """Characters above ASCII that are neither letters, marks nor punctuation news text uses."""
    return sum(1 for char in text if ord(char) > 127 and char not in _NEWS_SYMBOLS
               and not unicodedata.category(char).startswith(("L", "M")))
