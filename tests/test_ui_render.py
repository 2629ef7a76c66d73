"""What the chat shows under an answer, as a pure function of the engine's Answer."""

from __future__ import annotations

from markdown_it import MarkdownIt

from rag import Answer, Citation, DocumentInfo, Hit
from ui.render import answer_markdown, document_rows, sources_html, status_markdown


def test_the_chat_shows_how_sure_the_answerer_was() -> None:
    sure = Answer(text="It closed [1].", refused=False, backend="local", model="qwen", confidence=0.87,
                  verification=0.91, short_confidence=0.93)
    assert answer_markdown(sure) == ("It closed [[1]](#src-1).\n\n"
                                     "<small class='meta'>local · qwen · confidence 0.87 · second look 0.91 · short answer 0.93</small>")
    unmeasured = Answer(text="It closed [1].", refused=False, backend="openai", model="m", confidence=None)
    assert answer_markdown(unmeasured) == "It closed [[1]](#src-1).\n\n<small class='meta'>openai · m</small>"


def test_an_answer_from_the_cache_says_so_and_how_long_the_lookup_took() -> None:
    kept = Answer(text="It closed [1].", refused=False, backend="local", model="qwen", cached=True,
                  timings={"first_token": 0.001, "total": 0.001})
    assert answer_markdown(kept).endswith(
        "<small class='meta'>local · qwen · answered before, from the cache · first token 0.00 s · total 0.00 s</small>")


def test_the_library_lists_an_article_whose_stored_date_is_impossible() -> None:
    """An index written before dates were checked may hold a year-50000 timestamp: the Library tab
    (and ``rag documents``, which shares ``display_date``) shows it as invalid instead of crashing."""
    good = DocumentInfo(doc_id="a", title="Port strike ends", source="/a.md", source_name="a.md", chunks=2,
                        sha256="x", ingested_at=1_733_563_800, published=1_733_563_800)
    bad = DocumentInfo(doc_id="b", title="Comet seen", source="/b.md", source_name="b.md", chunks=1,
                       sha256="y", ingested_at=1_733_563_800, published=1_733_563_800_000_000)
    published = {row[0]: row[4] for row in document_rows([good, bad])}
    assert published["Port strike ends"] == "2024-12-07"
    assert published["Comet seen"] == "invalid (1733563800000000)"  # the stored number, for whoever fixes it


def test_an_article_s_markup_is_shown_as_text_not_rendered() -> None:
    """An answer quoting an article that carries an image tag, a Markdown image and a link shows them as
    words: no image loads by itself, no link the article chose looks like part of a cited answer."""
    hostile = ('The council approved 7 million dollars <img src="http://evil.example/p.png?c=1"> '
               '![chart](http://evil.example/c.png) [details](http://evil.example/) \\[2\\] on Monday [1].')
    markdown = MarkdownIt("commonmark")  # raw HTML on, as the chat's renderer has it
    for shown in (answer_markdown(Answer(text=hostile, refused=False, backend="extractive", model="none")),
                  answer_markdown(Answer(text=hostile, refused=True, backend="extractive", model="none")),
                  status_markdown("Writing…", hostile)):
        page = markdown.render(shown)
        assert "<img" not in page and "evil.example/\"" not in page and 'href="http' not in page
        assert "&lt;img src=" in page and "![chart](http://evil.example/c.png)" in page  # shown, as words
    answer = markdown.render(answer_markdown(Answer(text=hostile, refused=False, backend="extractive", model="none")))
    assert '<a href="#src-1">[1]</a>' in answer and "\\[2\\]" in answer  # a real citation links; an article's escapes stay


def test_an_uploaded_article_is_marked_as_one_wherever_it_is_shown() -> None:
    """An upload may carry any title and publisher: cited beside the server's own articles, or listed in
    the library, it read as one of them (a forged "Reuters" article took over an answer)."""
    forged = Hit("f:0", "f", "The US gave $1, officials said.", 0, 31, 1.0, title="US aid", publisher="Reuters",
                 source="/srv/data/uploads/poison.md", source_name="poison.md", uploaded=True)
    own = Hit("s:0", "s", "The US gave $64.1 billion.", 0, 26, 0.9, title="US aid", source="/srv/seeds/aid.txt",
              source_name="aid.txt")
    answer = Answer(text="The US gave $1 [1]. It gave $64.1 billion [2].", refused=False, hits=[forged, own],
                    citations=[Citation(1, "f", "poison.md", "US aid", "The US gave $1, officials said.", 0, 31,
                                        "Reuters", uploaded=True),
                               Citation(2, "s", "aid.txt", "US aid", "The US gave $64.1 billion.", 0, 26)])
    panel = sources_html(answer)
    assert panel.count("uploaded by a visitor") == 1
    assert "Reuters · poison.md · uploaded by a visitor" in panel
    closest = sources_html(Answer(text="", refused=True, hits=[forged, own]))
    assert closest.count("uploaded by a visitor") == 1
    docs = [DocumentInfo("f", "US aid", "/srv/data/uploads/poison.md", "poison.md", 1, "x", 1_733_563_800,
                         uploaded=True),
            DocumentInfo("s", "US aid", "/srv/seeds/aid.txt", "aid.txt", 1, "y", 1_733_563_700)]
    assert [row[2] for row in document_rows(docs)] == ["poison.md · uploaded by a visitor", "aid.txt"]


def test_a_source_shows_the_date_its_article_was_published() -> None:
    """A quote that says "on Monday" means nothing without its article's day; the JSON carries it too."""
    published = 1_709_596_800  # 2024-03-05
    hit = Hit("a:0", "a", "The bridge reopened on Monday.", 0, 30, 1.0, title="Bridge reopens",
              publisher="Harbour News", source_name="bridge.txt", published=published)
    citation = Citation(1, "a", "bridge.txt", "Bridge reopens", "The bridge reopened on Monday.", 0, 30,
                        publisher="Harbour News", published=published)
    answer = Answer(text="It reopened on Monday [1].", refused=False, citations=[citation], hits=[hit])
    assert "Harbour News · 2024-03-05 · bridge.txt" in sources_html(answer)
    assert "2024-03-05" in sources_html(Answer(text="", refused=True, hits=[hit]))
    assert answer.to_dict()["citations"][0]["published"] == published
