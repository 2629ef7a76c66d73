"""Reading files: every bad input is a clear reason, never a crash, and text is never silently dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import FileRejected
from rag.loading import decode_bytes, doc_id_for, find_files, load_file, parse_date, read_file

LIMIT = 1_000_000


def test_plain_text_article_gets_metadata(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text("Flood waters recede in Valencia\n\nResidents returned home on Monday after the river fell.\n")
    [article] = load_file(path, LIMIT)
    assert article.title == "Flood waters recede in Valencia"
    assert "Residents returned home on Monday" in article.text
    assert article.source_name == "story.txt"
    assert article.doc_id == doc_id_for(str(path.resolve()))
    assert len(article.sha256) == 64


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"   \n\n  \t\n", "empty"),
        # nothing readable: zero-width characters were indexed as an article, and a zero-width question cited it
        ("invisible.txt", "\u200c\u200d\u200e\u2063\n\u200b".encode(), "no article text"),
        ("invisible.jsonl", '{"text": "\u200c\u200d"}\n'.encode(), "text is empty"),
        ("binary.txt", bytes(range(256)) * 20, "binary"),
        ("image.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 100, "binary"),
    ],
)
def test_bad_files_are_rejected_with_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileRejected, match=reason):
        load_file(path, LIMIT)


def test_too_large_file_names_the_setting_to_change(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("A sentence about the news. " * 50_000)
    with pytest.raises(FileRejected, match="RAG_MAX_FILE_MB"):
        load_file(path, max_bytes=100_000)


def test_unreadable_path_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "folder.txt"
    path.mkdir()
    with pytest.raises(FileRejected, match="cannot read"):
        load_file(path, LIMIT)


def test_cyrillic_legacy_encoding_is_detected(tmp_path: Path) -> None:
    text = ("Президент Украины Владимир Зеленский пригласил Владимира Путина в Киев для переговоров. "
            "Он сказал журналистам в пятницу, что готов к любому формату встречи.")
    path = tmp_path / "cyrillic.txt"
    path.write_bytes(text.encode("cp1251"))
    [article] = load_file(path, LIMIT)
    assert "Зеленский пригласил" in article.text


def test_mis_encoded_text_is_decoded_not_dropped(tmp_path: Path) -> None:
    text = "Café owners in Zürich said the “new rules” cost them 5 000 € a year.\n\nThe council disagreed."
    path = tmp_path / "legacy.txt"
    path.write_bytes(text.encode("cp1252"))
    [article] = load_file(path, LIMIT)
    assert "Café owners in Zürich" in article.text
    assert "“new rules”" in article.text


def test_utf8_bom_is_not_part_of_the_title() -> None:
    assert decode_bytes("\ufeffHeadline\n\nBody.".encode("utf-8")).startswith("Headline")


def test_jsonl_yields_one_article_per_line_with_fields(tmp_path: Path) -> None:
    lines = [
        {"id": "a1", "title": "Port strike ends", "text": "Dock workers ended a ten-day strike on Friday.",
         "url": "https://example.org/a1", "published": "2024-12-09T10:00:00Z", "source": "Example Wire"},
        {"id": "a2", "content": "Snow closed the mountain pass for two days.", "date": "Mon, 09 Dec 2024 08:00:00 GMT"},
    ]
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    first, second = load_file(path, LIMIT)
    assert first.title == "Port strike ends"
    assert first.publisher == "Example Wire"
    assert first.published == 1733738400
    assert first.url == "https://example.org/a1"
    assert second.published == 1733731200
    assert first.doc_id != second.doc_id
    assert first.source.endswith("feed.jsonl#a1")


def test_jsonl_of_the_common_news_datasets_is_read_with_their_own_field_names(tmp_path: Path) -> None:
    """A user's archive often comes as a dataset's own file: HaluEval's CNN/DailyMail lines hold the
    article in "document" (every line was rejected: "no text field"), news-please writes "maintext" and
    "date_publish", NewsAPI "publishedAt" and a "source" object, schema.org's NewsArticle "articleBody"."""
    lines = [
        {"document": "Dock workers ended a ten-day strike on Friday.", "right_summary": "Strike ends.",
         "hallucinated_summary": "Strike goes on."},
        {"headline": "Pass closed", "maintext": "Snow closed the mountain pass for two days.",
         "date_publish": "2024-12-09 08:00:00", "source_domain": "example.org"},
        {"title": "Ferry returns", "content": "The ferry resumed its crossings.", "publishedAt": "2024-12-09T10:00:00Z",
         "source": {"id": "wire", "name": "Example Wire"}, "link": "https://example.org/ferry"},
        {"@type": "NewsArticle", "headline": "Bridge reopens", "articleBody": "The bridge reopened to traffic.",
         "datePublished": "2024-12-09T10:00:00Z", "publisher": {"@type": "Organization", "name": "Daily Example"}},
    ]
    path = tmp_path / "dataset.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    halueval, news_please, newsapi, json_ld = load_file(path, LIMIT)
    assert halueval.text == "Dock workers ended a ten-day strike on Friday."
    assert (news_please.title, news_please.publisher, news_please.published) == ("Pass closed", "example.org", 1733731200)
    assert (newsapi.publisher, newsapi.url, newsapi.published) == ("Example Wire", "https://example.org/ferry", 1733738400)
    assert newsapi.source.endswith("dataset.jsonl#https://example.org/ferry")
    assert (json_ld.title, json_ld.publisher, json_ld.published) == ("Bridge reopens", "Daily Example", 1733738400)


@pytest.mark.parametrize("wrap", [
    lambda items: items,  # an array
    lambda items: {"status": "ok", "totalResults": len(items), "articles": items},  # NewsAPI's response
])
def test_a_json_file_of_articles_is_read_like_json_lines(tmp_path: Path, wrap) -> None:  # type: ignore[no-untyped-def]
    """A .json file was "unsupported file type": an export or an API response holds its articles in an
    array. Its items read as JSON Lines lines do, and a bad one is skipped with its place."""
    items = [{"title": "Ferry returns", "content": "The ferry resumed its crossings… [+2345 chars]", "url": "https://example.org/f",
              "publishedAt": "2024-12-09T10:00:00Z", "source": {"name": "Example Wire"}},
             {"title": "No body"}, None, {"title": "Blank", "text": " "}]
    path = tmp_path / "news.json"
    path.write_text(json.dumps(wrap(items)))
    loaded = read_file(path, LIMIT)
    [(where, ferry)] = loaded.articles
    assert (ferry.title, ferry.publisher, ferry.published) == ("Ferry returns", "Example Wire", 1733738400)
    assert ferry.text.endswith("The ferry resumed its crossings")  # NewsAPI's "[+2345 chars]" is not the article's
    assert ferry.source.endswith("news.json#https://example.org/f") and where.endswith("news.json item 1")
    assert [(where.rsplit(" ", 2)[-2:], reason) for where, reason in loaded.problems] == [
        (["item", "2"], "no text field (one of text, content, body, article, document, maintext, articleBody, story)"),
        (["item", "3"], "not an article object but null"),  # was "no text field", as if one could be added
        (["item", "4"], "its text field is empty")]
    assert loaded.collection is not None  # articles later deleted from the file leave the index


@pytest.mark.parametrize(("content", "message"), [
    ('{"status": "ok"}', "no articles"), ("[1, 2", "not JSON"), ("[]", "an empty array")])
def test_a_json_file_without_articles_is_rejected_with_a_reason(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(FileRejected, match=message):
        load_file(path, LIMIT)


def test_jsonl_without_text_is_rejected_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"title": "no body"}\nnot json\n')
    with pytest.raises(FileRejected, match="line 1.*line 2"):
        load_file(path, LIMIT)


def test_find_files_walks_folders_and_reports_unsupported(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.md").write_text("# Deep\n\nText.")
    (tmp_path / "a" / "top.html").write_text("<p>Text.</p>")
    (tmp_path / "a" / ".hidden").mkdir()
    (tmp_path / "a" / ".hidden" / "x.txt").write_text("hidden")
    (tmp_path / "a" / "notes.pdf").write_bytes(b"%PDF")
    found, rejected = find_files([tmp_path / "a", tmp_path / "photo.jpg", tmp_path / "missing"])
    assert sorted(p.name for p in found) == ["deep.md", "top.html"]
    assert [(p.name, "no such file" in r) for p, r in rejected] == [
        (".hidden", False), ("notes.pdf", False), ("photo.jpg", True), ("missing", True)]
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    _, rejected = find_files([tmp_path / "photo.jpg"])
    assert "unsupported file type '.jpg'" in rejected[0][1]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2024-12-07", 1733529600), ("2024-12-07T12:00:00+01:00", 1733569200), (1733529600, 1733529600),
     ("Sat, 07 Dec 2024 00:00:00 GMT", 1733529600), ("yesterday", None), ("", None), (None, None)],
)
def test_parse_date(value: object, expected: int | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_with_a_byte_order_mark_are_decoded(tmp_path: Path, codec: str) -> None:
    text = "Київ: мер відкрив міст\n\nThe new bridge in Kyiv opened on Friday after two years of work."
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-32-le": b"\xff\xfe\x00\x00",
           "utf-32-be": b"\x00\x00\xfe\xff"}.get(codec, b"")
    path = tmp_path / "story.txt"
    path.write_bytes(bom + text.encode(codec))
    [article] = load_file(path, LIMIT)
    assert article.title == "Київ: мер відкрив міст"
    assert "opened on Friday" in article.text


@pytest.mark.parametrize(
    ("value", "reason"),
    [(float("nan"), "not a date"), (float("inf"), "not a date"), (1733529600000, "milliseconds"),
     ("0001-01-01", "before 1800"), ("9999-12-31", "after 2100"), (True, "not a date"),
     ("yesterday", "accepted"), ("۱۴۰۵/۰۹/۱۶", "Solar Hijri or Hijri date"), ("1448-06-16", "Hijri date")],
)
def test_implausible_dates_are_rejected_with_a_reason(value: object, reason: str) -> None:
    from rag.dates import DateError, to_epoch

    with pytest.raises(DateError, match=reason):
        to_epoch(value)


def test_html_and_jsonl_dates_come_from_one_parser(tmp_path: Path) -> None:
    """An HTML meta date and a JSON Lines field give the same epoch seconds for the same moment."""
    page = tmp_path / "page.html"
    page.write_text('<html><head><meta property="article:published_time" content="Sat, 07 Dec 2024 09:30:00 GMT">'
                    '</head><body><h1>Ferry returns</h1><p>The Mull ferry returned to service on Saturday '
                    'morning after a week of repairs in the Clyde.</p></body></html>')
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"text": "The Mull ferry returned to service.", "published": "2024-12-07T09:30:00Z"}\n')
    [html] = load_file(page, LIMIT)
    [line] = load_file(feed, LIMIT)
    assert html.published == line.published == 1733563800


def test_saved_news_page_gives_the_loader_title_date_publisher_byline_and_body() -> None:
    from rag.dates import to_epoch

    page = Path(__file__).resolve().parent / "data" / "html" / "zeit.de.zugverkehr.html"
    [article] = load_file(page, LIMIT)
    assert article.title == "Zugverkehr: Im ICE von Frankfurt nach Barcelona"
    assert article.published == to_epoch("2020-01-14T09:21:29+01:00")
    assert (article.publisher, article.byline) == ("ZEIT ONLINE", "Caspar Schwietering")
    assert article.text.startswith(f"{article.title}\n\n36 Stunden. So lange dauert")
    assert "Bitte melden Sie sich an, um zu kommentieren." not in article.text


def test_a_meta_date_in_milliseconds_is_dropped_not_stored(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text('<html><head><meta name="date" content="1733563800000"></head><body><h1>Ferry returns</h1>'
                    '<p>The Mull ferry returned to service on Saturday morning after a week of repairs.</p>'
                    '</body></html>')
    [article] = load_file(page, LIMIT)
    assert article.published is None


def test_walked_folder_reports_unsupported_hidden_and_dangling_entries(tmp_path: Path) -> None:
    (tmp_path / "a" / ".git").mkdir(parents=True)
    (tmp_path / "a" / ".git" / "HEAD").write_text("ref")
    (tmp_path / "a" / "story.txt").write_text("Headline\n\nBody.")
    (tmp_path / "a" / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / "a" / "dead.md").symlink_to(tmp_path / "missing.md")
    found, rejected = find_files([tmp_path / "a"])
    assert [p.name for p in found] == ["story.txt"]
    reasons = {p.name: r for p, r in rejected}
    assert set(reasons) == {".git", "notes.pdf", "dead.md"}
    assert "hidden" in reasons[".git"] and "unsupported" in reasons["notes.pdf"] and "link" in reasons["dead.md"]


def test_an_entry_that_cannot_even_be_looked_at_is_skipped_and_the_rest_is_read(tmp_path: Path) -> None:
    """A link into /proc made ``exists()`` raise PermissionError, and the whole run stopped with a
    traceback; a link whose target name is too long for the file system fails the same way anywhere."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "story.txt").write_text("Headline\n\nBody.")
    (tmp_path / "a" / "odd.txt").symlink_to(tmp_path / ("x" * 300))
    found, rejected = find_files([tmp_path / "a", tmp_path / "a" / "odd.txt"])
    assert [p.name for p in found] == ["story.txt"]
    assert [(p.name, r) for p, r in rejected] == [("odd.txt", "cannot be read: File name too long")] * 2


def test_an_untitled_article_of_a_feed_is_titled_by_its_opening_words(tmp_path: Path) -> None:
    """A file's name names the one article it holds; in a feed of many it names none of them (every
    HaluEval article showed as the file's name in citations and in the library)."""
    feed = tmp_path / "cnn_dump.jsonl"
    feed.write_text(json.dumps({"document": "(CNN)The French prosecutor leading the investigation into the crash "
                                            "of Flight 9525 insisted on Wednesday that he had seen no video. He "
                                            "spoke in Marseille."}) + "\n"
                    + json.dumps({"title": "Port strike ends", "text": "Dockers in Antwerp went back to work."}) + "\n")
    untitled, titled = load_file(feed, LIMIT)
    assert untitled.title == "(CNN)The French prosecutor leading the investigation into the crash of Flight 9525…"
    assert titled.title == "Port strike ends"
    single = tmp_path / "cnn_00001.jsonl"
    single.write_text(json.dumps({"text": "Dockers in Antwerp went back to work on Monday."}) + "\n")
    assert [article.title for article in load_file(single, LIMIT)] == ["cnn_00001"]


def test_an_untitled_article_opening_with_a_dateline_is_titled_by_what_follows_too(tmp_path: Path) -> None:
    """"Kigali, Tuesday." titled a story about a fund, and "The Rev." (cut at its point) a life."""
    feed = tmp_path / "wire.jsonl"
    feed.write_text(json.dumps({"text": "Kigali, Tuesday. The government of Rwanda announced a fund for farmers."})
                    + "\n" + json.dumps({"text": "The Rev. Robert Schuller, founder of the Crystal Cathedral, "
                                                 "died on Thursday."}) + "\n")
    dateline, reverend = load_file(feed, LIMIT)
    assert dateline.title == "Kigali, Tuesday. The government of Rwanda announced a fund for farmers."
    assert reverend.title == "The Rev. Robert Schuller, founder of the Crystal Cathedral, died on Thursday."


@pytest.mark.parametrize(("text", "encoding"), [
    ("Rada miasta zatwierdziła budżet na przyszły rok. Największe wydatki przewidziano na remonty.", "cp1250"),
    ("Vláda schválila zvýšení minimální mzdy. Odbory říkají, že to nestačí, zaměstnavatelé se obávají.",
     "iso8859_2"),
    ("İstanbul'da metro hattının açılışı ertelendi. Belediye, inşaat sırasında çıkan sorunları açıkladı.",
     "cp1254"),
    ("Café owners in Zürich said the “new rules” cost them 5 000 € a year.", "cp1252"),
])
def test_a_latin_code_page_is_read_in_its_own_letters(tmp_path: Path, text: str, encoding: str) -> None:
    """Every Latin legacy file used to be read as cp1252: Polish "budżet" became "bud¿et", so no search for
    it matched. The page whose decoding reads as letters wins."""
    path = tmp_path / "legacy.txt"
    path.write_bytes(f"Headline\n\n{text}".encode(encoding))
    [article] = load_file(path, LIMIT)
    assert text in article.text


def test_an_html_page_is_read_in_the_charset_it_declares(tmp_path: Path) -> None:
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2">'
            "<title>Rada miasta zatwierdziła budżet</title></head><body><article><h1>Rada miasta zatwierdziła budżet"
            "</h1><p>Rada miasta zatwierdziła budżet na przyszły rok. Największe wydatki przewidziano na remonty "
            "szkół i dróg, a także na nową linię tramwajową do dzielnicy północnej.</p></article></body></html>")
    path = tmp_path / "budzet.html"
    path.write_bytes(page.encode("iso8859_2"))
    [article] = load_file(path, LIMIT)
    assert article.title == "Rada miasta zatwierdziła budżet" and "przyszły rok" in article.text


def test_one_broken_byte_leaves_the_rest_of_a_utf8_feed_readable(tmp_path: Path) -> None:
    """A feed of UTF-8 lines with one Latin-1 "é" was read whole as a legacy page: every Russian line
    became mojibake, and re-ingesting it overwrote the good copies already indexed. Now only that byte
    is replaced, and an article holding a raw U+2028 (valid inside a JSON string) stays one line."""
    good = [{"id": f"r{n}", "title": "Снижение тарифов", "text": f"Правительство объявило о снижении тарифов {n}."}
            for n in range(3)]
    lines = [json.dumps(line, ensure_ascii=False).encode() for line in good]
    lines.append(b'{"id": "fr", "text": "Le caf\xe9 ferme ses portes.\xe2\x80\xa8Les clients regrettent."}')
    path = tmp_path / "feed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    articles = load_file(path, LIMIT)
    assert [a.text for a in articles[:3]] == [g["text"] for g in good]
    assert articles[3].text.startswith("Le caf\ufffd ferme") and "Les clients regrettent" in articles[3].text


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_half_an_emoji_escaped_in_json_is_one_replaced_character_not_a_skipped_article(tmp_path: Path,
                                                                                      suffix: str) -> None:
    """A JSON string may escape a lone surrogate ("\\ud83d": a string cut inside an emoji); the article was
    skipped as "cannot be read (UnicodeEncodeError ...)". It is read as a broken UTF-8 byte is: replaced."""
    line = '{"id": "1", "title": "Tram opens \\ud83d", "text": "The tram line opened with six stops \\ud83d and a depot. \\ud83d\\ude00"}'
    path = tmp_path / f"feed{suffix}"
    path.write_text(line + "\n" if suffix == ".jsonl" else f"[{line}]", encoding="utf-8")
    [article] = load_file(path, LIMIT)
    assert article.text == "The tram line opened with six stops \ufffd and a depot. \U0001f600"
    assert article.title == "Tram opens \ufffd"


@pytest.mark.parametrize(("value", "day"), [
    ("14 November 2023", "2023-11-14"), ("November 14, 2023", "2023-11-14"), ("Tue, 14 Nov 2023", "2023-11-14"),
    ("11/14/2023", "2023-11-14"), ("14.11.2023", "2023-11-14"), ("2023", "2023-01-01"), (2023, "2023-01-01"),
])
def test_the_dates_feeds_write_are_read(value: object, day: str) -> None:
    """A feed line dated "14 November 2023" was skipped whole, and a bare year 2023 was stored as 2,023
    seconds after 1970, so `--since` hid the article."""
    from rag.dates import display_date, to_epoch

    assert display_date(to_epoch(value)) == day


def test_a_day_and_month_that_could_be_swapped_are_refused_with_the_fix() -> None:
    from rag.dates import DateError, to_epoch

    with pytest.raises(DateError, match=r"could be day/month or month/day: write it as ISO 8601 \(2023-MM-DD\)"):
        to_epoch("03/04/2023")


def test_html_in_a_feed_s_text_field_is_read_as_html(tmp_path: Path) -> None:
    """WordPress and RSS exports put HTML in "content": its tags, entities and scripts were indexed as words."""
    line = {"id": "r1", "title": "Harbour toll starts in May", "content":
            "<div><p>The new harbour toll will start in <a href='/may'>May</a> &amp; cost drivers 3&nbsp;euros per "
            "crossing, officials said.</p><script>ga('send')</script></div>"}
    plain = {"id": "r2", "title": "AT&T <-> Verizon", "text": "AT&T said prices rise by 3% if x < 5 and y > 2."}
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps(line) + "\n" + json.dumps(plain) + "\n")
    html_article, text_article = load_file(path, LIMIT)
    assert html_article.title == "Harbour toll starts in May"
    assert "start in May & cost drivers 3" in html_article.text and "euros per crossing" in html_article.text
    assert "<" not in html_article.text and "ga(" not in html_article.text and "&amp;" not in html_article.text
    assert text_article.text.endswith("AT&T said prices rise by 3% if x < 5 and y > 2.")  # text stays text


def test_a_text_field_of_another_shape_is_read(tmp_path: Path) -> None:
    """Paragraphs as a list, WordPress's {"rendered": ...} and a nested article object were each refused
    as "no text field" although the field was there; a pretty-printed array named .jsonl gets the fix."""
    lines = [{"id": "a", "title": "Pass closed", "text": ["Snow closed the mountain pass.", "It reopens Friday."]},
             {"id": "b", "title": {"rendered": "Ferry returns"}, "content": {"rendered": "<p>The ferry resumed "
              "its crossings on Monday.</p><p>Tickets cost 4 euros.</p>"}},
             {"id": "c", "article": {"title": "Bridge reopens", "text": "The bridge reopened to traffic."}}]
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    first, second, third = load_file(path, LIMIT)
    assert "Snow closed the mountain pass.\n\nIt reopens Friday." in first.text
    assert second.title == "Ferry returns" and "resumed its crossings on Monday." in second.text
    assert "<p>" not in second.text and "The bridge reopened to traffic." in third.text
    pretty = tmp_path / "array.jsonl"
    pretty.write_text(json.dumps([{"text": "Snow closed the pass."}], indent=2))
    with pytest.raises(FileRejected, match="is a .json file, not JSON Lines: rename it"):
        load_file(pretty, LIMIT)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read_not_refused_as_binary(tmp_path: Path, codec: str) -> None:
    text = "Київ: мер відкрив міст\n\nThe new bridge in Kyiv opened on Friday after two years of work."
    path = tmp_path / "story.txt"
    path.write_bytes(text.encode(codec))
    [article] = load_file(path, LIMIT)
    assert article.title == "Київ: мер відкрив міст" and "opened on Friday" in article.text


def test_a_file_with_nul_bytes_is_still_binary(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(FileRejected, match="binary"):
        load_file(path, LIMIT)


def test_a_few_stray_nul_bytes_do_not_make_an_article_binary(tmp_path: Path) -> None:
    """A scraper left two NULs in a UTF-8 story: it was refused whole as "binary"; now it is read, without them."""
    path = tmp_path / "zoo.txt"
    path.write_bytes("Zoo welcomes twin pandas\n\nThe Harwick zoo welcomed twin panda cubs\x00 on Monday. Keeper "
                     "Bella Sørensen\x00 said both cubs weigh about 150 grams.\n".encode())
    [article] = load_file(path, LIMIT)
    assert article.title == "Zoo welcomes twin pandas"
    assert "twin panda cubs on Monday" in article.text and "Sørensen said" in article.text
    assert "\x00" not in article.text


@pytest.mark.parametrize("head", [
    # a PDF: a text header, then a compressed stream (NULs among bytes that are not UTF-8)
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 900 /Filter /FlateDecode >>\nstream\n",
    # a Word file (a zip archive), and text with NULs by the dozen (a database dump's fixed-width fields)
    b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml",
    b"Headline\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00Body text of a record\x00\x00\x00\x00\x00\x00",
])
def test_binary_formats_with_a_text_like_head_are_still_refused(tmp_path: Path, head: bytes) -> None:
    import zlib

    path = tmp_path / "upload.txt"
    path.write_bytes(head + zlib.compress(("The council met on Monday. " * 200).encode() + bytes(range(256)) * 4))
    with pytest.raises(FileRejected, match="binary"):
        load_file(path, LIMIT)


@pytest.mark.parametrize("value", ["N/A", "yesterday", "03/04/2024", "2024-13-45", 1733529600000])
@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_an_unreadable_date_costs_the_date_not_the_article(
        tmp_path: Path, value: object, suffix: str) -> None:
    """One unreadable date ("N/A", an ambiguous 03/04/2024) skipped the whole article; now it is kept
    undated, and the warning (for the ingestion report) names the record and the value so the user can fix it."""
    records = [{"id": "ok", "title": "Pier", "text": "Largs pier repairs finish early.", "date": "2024-12-07"},
               {"id": "bad", "title": "Fares", "text": "Ferry fares rise in Oban from May.", "date": value}]
    path = tmp_path / f"feed{suffix}"
    path.write_text("\n".join(map(json.dumps, records)) if suffix == ".jsonl" else json.dumps(records))
    loaded = read_file(path, LIMIT)
    assert not loaded.problems
    assert [(article.title, article.published) for _, article in loaded.articles] == [
        ("Pier", 1733529600), ("Fares", None)]
    [(where, warning)] = loaded.warnings
    assert where == (f"{path} line 2" if suffix == ".jsonl" else f"{path} item 2")
    assert warning.startswith("indexed without a date") and repr(value) in warning


@pytest.mark.parametrize(("value", "day"), [
    ("20240305", "2024-03-05"), (20240305, "2024-03-05"), ("2024/03/04", "2024-03-04"),
    ("2024-03-01 09:00:00 UTC", "2024-03-01"), ("2024年3月1日", "2024-03-01"), (1709596800, "2024-03-05"),
])
def test_year_first_and_compact_dates_of_a_feed_are_read(tmp_path: Path, value: object, day: str) -> None:
    """"20240305" was stored as 1970-08-23 (read as seconds); 2024/03/04, a SQL dump's "... UTC" and
    2024年3月1日 skipped the line."""
    from rag.dates import display_date

    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps({"text": "The canal reopened to barges on Tuesday.", "date": value}) + "\n")
    [article] = load_file(path, LIMIT)
    assert display_date(article.published) == day


def test_a_compact_front_matter_date_is_that_day(tmp_path: Path) -> None:
    """YAML reads ``date: 20240305`` as the integer 20240305, which was stored as 1970-08-23."""
    from rag.dates import display_date

    path = tmp_path / "crane.md"
    path.write_text("---\ntitle: Crane collapses\ndate: 20240305\n---\n"
                    "The harbour crane collapsed on Tuesday, injuring two workers, the port authority said.\n")
    [article] = load_file(path, LIMIT)
    assert (article.title, display_date(article.published)) == ("Crane collapses", "2024-03-05")


def test_a_nested_article_keeps_its_own_title_date_and_publisher(tmp_path: Path) -> None:
    """``{"article": {"title", "text", "date"}}``: the text was read from the nested object but its title
    and date were lost. They come from the object the text came from, then from the ones around it."""
    lines = [{"id": "n1", "publisher": "Clyde Herald",
              "article": {"title": "Bridge reopens", "text": "The bridge reopened to traffic.", "date": "2024-12-07",
                          "url": "https://herald.example/bridge"}},
             {"id": "n2", "title": "Wrapper title", "date": "2023-01-01",
              "article": {"headline": "Inner headline", "body": "The pier reopened.", "published": "2024-12-07"}},
             {"id": "n3", "title": "Outer title", "date": "2024-12-07", "article": {"text": "The ferry returned."}}]
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(map(json.dumps, lines)) + "\n")
    first, second, third = load_file(path, LIMIT)
    assert (first.title, first.published, first.publisher, first.url) == (
        "Bridge reopens", 1733529600, "Clyde Herald", "https://herald.example/bridge")
    assert (second.title, second.published) == ("Inner headline", 1733529600)
    assert (third.title, third.published) == ("Outer title", 1733529600)


def test_a_title_from_an_html_field_is_read_as_text(tmp_path: Path) -> None:
    """WordPress's REST export titles keep HTML: "Harbour &#8211; new ferry" was shown with its entity.
    A title from a ``rendered`` field loses its tags and entities; a plain title stays as written."""
    posts = [{"id": 1, "title": {"rendered": "Harbour &#8211; ferry &amp; <em>bus</em> links"},
              "content": {"rendered": "<p>The new ferry terminal opened on Tuesday.</p><p>It cost 26 million.</p>"}},
             {"id": 2, "title": "Rates: if x < 5 and y > 2 &amp; more", "content": "Rates rose on Monday."}]
    path = tmp_path / "posts.json"
    path.write_text(json.dumps(posts))
    first, second = load_file(path, LIMIT)
    assert first.title == "Harbour \u2013 ferry & bus links"
    assert second.title == "Rates: if x < 5 and y > 2 &amp; more"


@pytest.mark.parametrize(("name", "content"), [
    ("pier.md", "---\ntitle: Pier repairs\ndate: N/A\n---\n\nLargs pier repairs finish early, the council said.\n"),
    ("pier.txt", "Title: Pier repairs\nDate: sometime in May\n\nLargs pier repairs finish early, the council said.\n"),
])
def test_a_front_matter_date_that_is_no_date_is_reported_not_dropped_silently(tmp_path: Path, name: str,
                                                                               content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    loaded = read_file(path, LIMIT)
    [(_, article)] = loaded.articles
    assert article.title == "Pier repairs" and article.published is None
    [(where, warning)] = loaded.warnings
    assert where == str(path) and warning.startswith("indexed without a date: its date '")


@pytest.mark.parametrize(("name", "content"), [
    ("empty-post.md", "---\ntitle: Mayor opens bridge\ndate: 2024-03-01\n---\n"),
    ("empty-post.txt", "Title: Mayor opens bridge\nDate: 2024-03-01\n\n"),
    ("home.html", "<html><head><title>Mayor opens bridge</title></head><body><nav><a href='/'>Home</a>"
                  "</nav><button>Accept</button><footer><p>© 2024 Daily Planet</p></footer></body></html>"),
])
def test_a_file_that_is_only_its_title_is_rejected_with_a_reason(tmp_path: Path, name: str, content: str) -> None:
    """Front matter with no body, and a page of only menus and buttons, were indexed as their title alone:
    an article with nothing to answer from, found by every search for its words."""
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(FileRejected, match="no article text besides its title 'Mayor opens bridge'"):
        load_file(path, LIMIT)


def test_a_record_whose_text_is_its_title_is_skipped_but_a_short_text_is_kept(tmp_path: Path) -> None:
    """A record's text of one short line is its body, even where the cleaner takes that line as a headline;
    a text that only repeats the record's title has none."""
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps({"title": "Pass closed", "text": "Pass closed"}) + "\n"
                    + json.dumps({"text": "Snow closed the mountain pass"}) + "\n")
    loaded = read_file(path, LIMIT)
    assert [article.text for _, article in loaded.articles] == ["Snow closed the mountain pass"]
    assert [reason for _, reason in loaded.problems] == [
        "no article text besides its title 'Pass closed': the body is empty or only page furniture (menus, cookie "
        "notices, footers)"]
