"""Publication dates: the one parser behind JSON Lines fields, HTML meta tags and ``rag search --since``.

Dates are stored as integer epoch seconds because Chroma range-filters numbers only. A value that
cannot be a news article's date (NaN, infinity, a timestamp in milliseconds, the year 1 or 9999) is
refused with a reason instead of stored: an out-of-range number crashes every listing that shows it.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from dateutil import parser as date_parser

from rag.text import ascii_digits

ACCEPTED_FORMATS = ("ISO 8601 (2024-12-07 or 2024-12-07T09:30:00+01:00), year first (2024/12/07, 20241207, "
                    "2024年12月7日), RFC 2822 (Sat, 07 Dec 2024 09:30:00 GMT), a month name in most languages "
                    "(7 December 2024, Dec 7, 2024, 7 grudnia 2024, ۱۴ نوامبر ۲۰۲۳), day first with dots (07.12.2024), a day "
                    "and month that cannot be swapped (13/12/2024), "
                    "a year (2024) or epoch seconds (1733563800)")
EARLIEST = datetime(1800, 1, 1, tzinfo=timezone.utc)  # older than any digitised newspaper archive
# Years that, written in a news article's date, are of the Solar Hijri calendar of Iran and Afghanistan
# (1405 is 2026) or the Hijri of Arabic outlets (1448): its own message, not "before 1800" alone.
_HIJRI_YEARS = (datetime(1300, 1, 1, tzinfo=timezone.utc), datetime(1501, 1, 1, tzinfo=timezone.utc))
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
BUDDHIST_ERA_OFFSET = 543  # the Thai solar calendar's year is the common era's plus 543
_FOUR_DIGITS = re.compile(r"(?<!\d)\d{4}(?!\d)")
_THAI = re.compile("[\u0e01-\u0e5b]")
_YEAR_10000 = datetime(9999, 12, 31, tzinfo=timezone.utc).timestamp()
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_MONTH_NAME = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?:\s|,|$)", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
_NUMERIC_DAY = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")
_DOTTED_DAY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_DAY = re.compile(r"(?<!\d)\d{1,2}(?!\d)")
# Year-first days: nobody writes year/day/month, so these are never ambiguous. "2024/03/04", "2024.3.4",
# "2024-3-4" (which ``fromisoformat`` refuses), and the Chinese, Japanese and Korean "2024年3月4日".
_YEAR_FIRST_DAY = re.compile(r"(?:(\d{4})([./-])(\d{1,2})\2(\d{1,2})"
                             r"|(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일])"
                             r"(?=$|[T\s])")  # then nothing, or a time as ISO 8601 writes it
# A zone named after the time ("2024-03-01 09:00:00 UTC", as SQL dumps and logs write it), which ISO 8601
# writes as an offset (``fromisoformat`` already takes an offset set apart: "09:00 +01:00").
_ZONE_NAME = re.compile(r"\s*(?:UTC|GMT|Z)$", re.IGNORECASE)
# A time written with CJK units after such a day ("2024年4月18日 23時15分", Korean "23시 15분"), as Japanese,
# Chinese and Korean news pages date their stories.
_CJK_TIME = re.compile(r"(?<=\s)(\d{1,2})\s*[時时시]\s*(\d{1,2})\s*[分분](?:\s*(\d{1,2})\s*[秒초])?$")


class DateError(ValueError):
    """A value given as a date is not one, or not a plausible one; the message says which and why."""


def to_epoch(value: object) -> int | None:
    """Epoch seconds of a date string (``ACCEPTED_FORMATS``), a YYYYMMDD or a number of seconds; None for
    no value.

    Naive times are taken as UTC. Raises ``DateError`` for anything else or outside 1800-2100.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise DateError(f"{value!r} is not a date (accepted: {ACCEPTED_FORMATS})")
    # Persian, Hindi and Thai pages write a date's day and year in their own digits, which no parser reads.
    if isinstance(value, str) and (written := _common_era(ascii_digits(value))) != value:
        try:
            return to_epoch(written)
        except DateError as exc:  # the message quotes the date as it was written
            raise DateError(str(exc).replace(repr(written), repr(value))) from None
    if _is_year(value):  # "2024": a year, not 2,024 seconds after 1970
        return int(datetime(int(str(value).strip()), 1, 1, tzinfo=timezone.utc).timestamp())
    if (day := _compact_day(value)) is not None:  # "20240305": that day, not 20 million seconds after 1970
        return int(day.timestamp())
    if isinstance(value, str) and not _NUMBER.fullmatch(value.strip()):
        parsed = _parse_text(value.strip())
        return _checked((parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp(), value)
    seconds = float(value)
    if not math.isfinite(seconds):
        raise DateError(f"{value!r} is not a date (accepted: {ACCEPTED_FORMATS})")
    return _checked(seconds, value)


def _common_era(text: str) -> str:
    """A Thai date's Buddhist-era year (2566) as the common era's (2023): Thai writes every date in it."""
    if not _THAI.search(text):
        return text
    def common(year: re.Match[str]) -> str:
        gregorian = int(year.group()) - BUDDHIST_ERA_OFFSET
        return str(gregorian) if EARLIEST.year <= gregorian < LATEST.year else year.group()
    return _FOUR_DIGITS.sub(common, text)


def parse_date(value: object) -> int | None:
    """``to_epoch`` for inputs where a bad date means 'no date' (e.g. a guess from page markup)."""
    try:
        return to_epoch(value)
    except DateError:
        return None


def iso_date(value: str) -> str:
    """ISO-8601 of a plausible date string, else "" (HTML meta tags: a bad one is no date)."""
    seconds = parse_date(value)
    if seconds is None:
        return ""
    # read as ``to_epoch`` read it: "۱۴ نوامبر ۲۰۲۳" and a Thai year raised here, and the page or file was lost
    written = _common_era(ascii_digits(value)).strip()
    if _NUMBER.fullmatch(written):
        return datetime.fromtimestamp(seconds, timezone.utc).isoformat()
    return _parse_text(written).isoformat()  # as written: a naive time stays naive


def display_date(seconds: int | None) -> str:
    """The day of an epoch for listings; "" for none. An index written before dates were checked may
    hold an impossible one: it is shown as invalid instead of crashing the listing."""
    if seconds is None:
        return ""
    try:
        return datetime.fromtimestamp(seconds, timezone.utc).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return f"invalid ({seconds})"


def _is_year(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return False
    text = str(value).strip()
    return len(text) == 4 and text.isdigit() and EARLIEST.year <= int(text) < LATEST.year


def _compact_day(value: object) -> datetime | None:
    """The day of an 8-digit YYYYMMDD (a string, or YAML's and JSON's integer 20240305), else None.

    Read as epoch seconds, such a value was a day of 1970, stored without a word. Eight digits opening
    with a plausible year are a date or nothing: "20241345" is refused, not stored as 1970-08-23."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    text = str(value).strip()
    if not (len(text) == 8 and text.isdigit() and EARLIEST.year <= int(text[:4]) < LATEST.year):
        return None
    try:
        return datetime(int(text[:4]), int(text[4:6]), int(text[6:]), tzinfo=timezone.utc)
    except ValueError:
        raise DateError(f"{value!r} is not a date: 8 digits are read as YYYYMMDD") from None


def _iso_form(text: str) -> str:
    """``text`` rewritten as ISO 8601 where only its spelling differs: a year-first day with other
    separators or CJK characters, a zone named after the time. Anything else is unchanged."""
    day = _YEAR_FIRST_DAY.match(text)
    if day:
        year, month, mday = (int(part) for part in (day.group(1, 3, 4) if day.group(1) else day.group(5, 6, 7)))
        text = f"{year:04d}-{month:02d}-{mday:02d}{text[day.end():]}"
        text = _CJK_TIME.sub(lambda t: f"{int(t[1]):02d}:{int(t[2]):02d}:{int(t[3] or 0):02d}", text)
    return _ZONE_NAME.sub("+00:00", text)


def _parse_text(text: str) -> datetime:
    for candidate in dict.fromkeys((text.replace("Z", "+00:00"), _iso_form(text))):
        try:
            return datetime.fromisoformat(candidate)
        except ValueError:
            pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    if dotted := _DOTTED_DAY.fullmatch(text):  # "07.12.2026": day first, as everyone who writes dots does
        return _date(int(dotted.group(3)), int(dotted.group(2)), int(dotted.group(1)), text)
    numeric = _NUMERIC_DAY.fullmatch(text)
    if numeric:
        return _day_month_year(*(int(part) for part in numeric.groups()), text)
    if _MONTH_NAME.search(text) and _YEAR.search(text):  # "14 November 2023", "Nov 14, 2023, 10:30 GMT"
        try:
            return date_parser.parse(text, default=datetime(2000, 1, 1))
        except (ValueError, OverflowError):
            pass
    if _YEAR.search(text) and _DAY.search(text) and (named := _named_month_day(text)) is not None:
        return named
    raise DateError(f"{text!r} is not a date (accepted: {ACCEPTED_FORMATS})")


def _named_month_day(text: str) -> datetime | None:
    """A day with its month named in any language dateparser knows ("7 grudnia 2026", "7 Desember 2026 14:30
    WIB", "7 Δεκεμβρίου 2026"): read as it is written, never relative to today ("yesterday" is no article's
    date), and only with a day, a month and a year. A time zone written after the time is applied; a time
    without one is UTC, as everywhere else here."""
    import dateparser

    return dateparser.parse(text, settings={"PARSERS": ["absolute-time"], "REQUIRE_PARTS": ["day", "month", "year"],
                                            "DATE_ORDER": "DMY", "TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True})


def _date(year: int, month: int, day: int, text: str) -> datetime:
    try:
        return datetime(year, month, day)
    except ValueError:
        raise DateError(f"{text!r} is not a date (accepted: {ACCEPTED_FORMATS})") from None


def _day_month_year(first: int, second: int, year: int, text: str) -> datetime:
    """11/14/2023 (US) and 14.11.2023 (European) are clear; 03/04/2023 is either, so it is refused with
    a reason rather than stored as a guess a month off."""
    if first > 12 >= second or first == second:
        day, month = first, second
    elif second > 12 >= first:
        day, month = second, first
    else:
        raise DateError(f"{text!r} could be day/month or month/day: write it as ISO 8601 ({year}-MM-DD)")
    return _date(year, month, day, text)


def _checked(seconds: float, original: object) -> int:
    if seconds < EARLIEST.timestamp():
        hint = (" (a Solar Hijri or Hijri date? give its Gregorian day, as 2026-12-07)"
                if _HIJRI_YEARS[0].timestamp() <= seconds < _HIJRI_YEARS[1].timestamp() else "")
        raise DateError(f"{original!r} is before {EARLIEST.year}{hint}: not a news article's date")
    if seconds >= LATEST.timestamp():
        as_milliseconds = EARLIEST.timestamp() <= seconds / 1000 < LATEST.timestamp()
        hint = (" (a timestamp in milliseconds? give epoch seconds)"  # a number's hint: "9999-01-01" is none
                if as_milliseconds and _NUMBER.fullmatch(str(original).strip()) else "")
        year = datetime.fromtimestamp(seconds, timezone.utc).year if seconds < _YEAR_10000 else 10_000
        written = not _NUMBER.fullmatch(str(original).strip())  # a date written out, not a timestamp
        if written and EARLIEST.year <= year - BUDDHIST_ERA_OFFSET < LATEST.year:
            hint = f" (a Thai Buddhist-era year? give its Gregorian day: the year {year - BUDDHIST_ERA_OFFSET})"
        raise DateError(f"{original!r} is after {LATEST.year}{hint}: not a news article's date")
    return int(seconds)
