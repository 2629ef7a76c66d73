"""``rag.dates``: one parser for an article's date and a search filter's; the caller decides leniency."""

from __future__ import annotations

import pytest

from rag.cleaning import clean_html, clean_markdown
from rag.dates import DateError, display_date, iso_date, to_epoch


@pytest.mark.parametrize(("value", "day"), [
    ("2024/03/04", "2024-03-04"), ("2024.3.4", "2024-03-04"), ("2024-3-4", "2024-03-04"),
    ("2024年3月1日", "2024-03-01"), ("2024년 3월 1일", "2024-03-01"),
])
def test_a_year_first_day_is_read_whatever_its_separators(value: str, day: str) -> None:
    """Nobody writes year/day/month, so a year-first day is never ambiguous; each was refused."""
    assert display_date(to_epoch(value)) == day


@pytest.mark.parametrize(("value", "seconds"), [
    ("2024-03-01 09:00:00 UTC", 1709283600), ("2024-03-01 09:00 GMT", 1709283600),
    ("2024-03-01 09:00:00 +01:00", 1709280000), ("2024/03/01 09:00 UTC", 1709283600),
    ("2024年3月1日 09:00", 1709283600), ("2024年3月1日 9時00分", 1709283600), ("2024년 3월 1일 9시 0분", 1709283600),
])
def test_a_time_with_its_zone_set_apart_is_read(value: str, seconds: int) -> None:
    """SQL dumps and logs write "2024-03-01 09:00:00 UTC": ISO 8601 but for the zone's spelling."""
    assert to_epoch(value) == seconds


@pytest.mark.parametrize("value", ["20240305", 20240305, " 20240305 "])
def test_eight_digits_are_a_compact_day_not_seconds(value: object) -> None:
    """"20240305" (and YAML's integer 20240305) was read as epoch seconds: 1970-08-23, without a word."""
    assert display_date(to_epoch(value)) == "2024-03-05"
    assert iso_date(str(value)).startswith("2024-03-05")  # front matter's path


@pytest.mark.parametrize(("value", "day"), [
    (1733563800, "2024-12-07"), ("1733563800", "2024-12-07"), (99999999, "1973-03-03"), (2024, "2024-01-01"),
])
def test_epoch_seconds_and_years_are_unchanged(value: object, day: str) -> None:
    """Only 8 digits opening with a year from 1800 to 2099 are a compact day; other numbers stay seconds."""
    assert display_date(to_epoch(value)) == day


@pytest.mark.parametrize(("value", "reason"), [
    ("20241345", "8 digits are read as YYYYMMDD"), ("2024/13/45", "not a date"), ("2024/03/04/05", "not a date"),
    ("03/04/2024", "could be day/month or month/day"), ("N/A", "not a date"), ("yesterday", "not a date"),
    (1733529600000, "milliseconds"),
])
def test_strict_parsing_still_refuses_what_is_no_date(value: object, reason: str) -> None:
    """A search filter's date (``to_epoch``) stays strict: only an article's own date is forgiven, by its caller."""
    with pytest.raises(DateError, match=reason):
        to_epoch(value)


def test_only_a_number_is_suspected_of_being_milliseconds() -> None:
    """A far-future date string was told "a timestamp in milliseconds? give epoch seconds": no fix for a string."""
    with pytest.raises(DateError, match="after 2100: not a news article's date"):
        to_epoch("9999-01-01")
    with pytest.raises(DateError, match="milliseconds"):
        to_epoch("1733529600000")


@pytest.mark.parametrize(("value", "seconds"), [
    ("7 grudnia 2026", 1796601600), ("Senin, 7 Desember 2026", 1796601600), ("7 Δεκεμβρίου 2026", 1796601600),
    ("7 de diciembre de 2026", 1796601600), ("07.12.2026", 1796601600),
    ("7 Desember 2026 14:30 WIB", 1796601600 + 7 * 3600 + 1800),  # Jakarta time, UTC+7
])
def test_a_month_named_in_another_language_and_a_dotted_day_are_read(value: str, seconds: int) -> None:
    """A Polish, Indonesian or Greek feed's dates were refused, and its articles then missed every search
    filtered by date; "07.12.2026" was refused as day/month or month/day, though dots are always day first."""
    assert to_epoch(value) == seconds


@pytest.mark.parametrize("value", ["yesterday 2026", "31.02.2026", "Dezember 2026"])
def test_a_relative_day_an_impossible_one_or_no_day_is_still_no_date(value: str) -> None:
    with pytest.raises(DateError):
        to_epoch(value)


@pytest.mark.parametrize(("value", "day"), [
    ("۱۴ نوامبر ۲۰۲۳", "2023-11-14"), ("४ दिसंबर २०२२", "2022-12-04"), ("١٤/١١/٢٠٢٣", "2023-11-14"),
    ("14 พฤศจิกายน 2566", "2023-11-14"), ("๑๔ พฤศจิกายน ๒๕๖๖", "2023-11-14"), ("14 พฤศจิกายน 2023", "2023-11-14"),
])
def test_a_date_in_its_own_script_digits_or_the_thai_calendar_is_read(value: str, day: str) -> None:
    """Persian, Hindi and Thai pages write dates in their own digits, and Thai years in the Buddhist era
    (2566 is 2023): each was refused, the Thai one as "after 2100". A page's <time> or a file's front
    matter (``iso_date``) read them too: there they raised, and the whole file was lost."""
    assert display_date(to_epoch(value)) == day
    assert iso_date(value).startswith(day)
    page = f"<html><body><h1>ข่าว</h1><time>{value}</time><p>{'The council voted on the new budget today. ' * 12}</p></body></html>"
    assert clean_html(page).published.startswith(day)
    assert clean_markdown(f"---\ntitle: Budget\ndate: {value}\n---\n\nThe council voted on the budget.\n").published.startswith(day)


def test_a_buddhist_era_year_without_thai_words_is_refused_with_its_calendar_named() -> None:
    with pytest.raises(DateError, match=r"'2566-11-14' is after 2100 \(a Thai Buddhist-era year\? .*the year 2023\)"):
        to_epoch("2566-11-14")
    with pytest.raises(DateError, match="'۰۳/۰۴/۲۰۲۳' could be day/month or month/day"):  # quoted as written
        to_epoch("۰۳/۰۴/۲۰۲۳")
