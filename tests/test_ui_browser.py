"""The UI in a real headless Chromium (Debian's package) driven by Playwright, against the app served in-process.

Every page load records its requests: none may leave 127.0.0.1 (no fonts, scripts or analytics from
outside). Screenshots of every test go to test-artifacts/; the streaming test's picture of a cited
answer goes there as ui.png, and replaces the README's docs/ui.png only when NEWS_RAG_UPDATE_SCREENSHOT=1
(a test run must not leave the work tree changed). Answers come from the `extractive` backend, except in that test of token streaming, which
uses the bundled local model (the only backend here that streams words).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright
from pydantic import SecretStr

from rag import NewsRAG, Settings
from tests.conftest import REPO, SEEDS, free_port
from ui import build_app, launch
from ui.launcher import seed_if_empty

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = REPO / "test-artifacts"
README_SCREENSHOT = REPO / "docs" / "ui.png"
FUNDING_QUESTION = "How much has the US government contributed to Ukraine's war effort?"
ANSWER_TIMEOUT_MS = 60_000
DOWN_SERVER = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, NewsRAG]]:
    """The app on a free loopback port, over a fresh index seeded as on a first start."""
    # The operator offers visitors the local model and an OpenAI-compatible server that is down (no key):
    # the page may pick them, not change them.
    # The model's refusal thresholds are off: these tests watch what the page shows while a model writes,
    # not the thresholds (tests/test_evidence.py and tests/test_news_answers.py cover those).
    engine = NewsRAG(Settings(data_dir=tmp_path_factory.mktemp("ui-browser"), llm="extractive",
                              openai_base_url=DOWN_SERVER, ui_backends=("local", "openai"), min_confidence=0.0, min_verification=0.0, min_short_confidence=0.0,
                              min_answer_probability=None))
    seed_if_empty(engine, SEEDS, say=lambda _: None)
    app = build_app(engine)
    url = launch(app, port=free_port(), block=False)
    yield url, engine
    app.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; `.ci/run` installs it "
                    "(apt-get install -y chromium chromium-driver). Never `playwright install`.")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, served: tuple[str, NewsRAG], request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh session on the app; afterwards a screenshot, and a check that nothing left 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    tab = context.new_page()
    requested: list[str] = []
    tab.on("request", lambda req: requested.append(req.url))
    tab.goto(served[0], wait_until="load")
    tab.wait_for_selector("#question textarea")
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    outside = sorted({url for url in requested if urlsplit(url).scheme in ("http", "https", "ws", "wss")
                      and urlsplit(url).hostname != "127.0.0.1"})
    assert not outside, f"the page fetched from outside 127.0.0.1: {outside}"


def ask(page: Page, question: str) -> None:
    page.fill("#question textarea", question)
    page.keyboard.press("Enter")


def last_answer(page: Page) -> Locator:
    return page.locator("#chat [data-testid=bot]").last


def test_cited_answer_links_to_its_highlighted_source(page: Page) -> None:
    ask(page, FUNDING_QUESTION)
    citation = page.locator('#chat a[href="#src-1"]').first
    citation.wait_for(timeout=ANSWER_TIMEOUT_MS)
    answer = last_answer(page).inner_text()
    assert "64.1 billion" in answer and "extractive" in answer  # the answer, and who answered

    citation.click()
    quote = page.locator("#sources details#src-1[open] mark")
    quote.wait_for(state="visible")
    assert "64.1 billion" in quote.inner_text()
    assert page.locator("#sources details#src-1 summary").inner_text().strip()  # the article's title


def test_refusal_offers_the_closest_articles(page: Page) -> None:
    ask(page, "Who won the 1998 World Cup final?")
    page.locator("#chat :text('Not in the articles')").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert page.locator("#sources h3").inner_text() == "Closest articles"
    assert page.locator("#sources details.source").count() >= 1


def test_the_example_questions_are_the_engine_s_own_checked_ones(page: Page, served: tuple[str, NewsRAG]) -> None:
    """The buttons of an empty chat are the questions stored for the newest articles, each kept only if
    the engine answered it from its article when it was written (tests/test_suggestions.py has the
    bundled model write them; the extractive backend here writes none, so one is stored as if written)."""
    from rag.suggestions import suggestion_key

    url, engine = served
    assert page.locator("#chat button", has_text=FUNDING_QUESTION).count() == 0
    source = engine.ask(FUNDING_QUESTION).citations[0].doc_id
    article = next(d for d in engine.documents() if d.doc_id == source)
    engine.suggestions.put(suggestion_key(article, engine.answering_model), FUNDING_QUESTION)
    page.reload(wait_until="load")
    example = page.locator("#chat button", has_text=FUNDING_QUESTION).first
    example.wait_for(timeout=ANSWER_TIMEOUT_MS)
    example.click()
    page.locator("#chat a[href='#src-1']").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "64.1 billion" in last_answer(page).inner_text()


def test_upload_is_listed_answerable_and_removable(page: Page, browser: Browser, served: tuple[str, NewsRAG],
                                                   tmp_path: Path) -> None:
    """A visitor's upload is its uploader's to read and to remove: another visitor neither lists it nor is
    answered from it (RAG_SHARED_UPLOADS is off)."""
    url, engine = served
    article = tmp_path / "lunar rover.md"
    article.write_text("# Lunar rover finds water ice near the south pole\n\nBy Test Wire\n\nA small lunar rover "
                       "operated by the Example Space Agency found water ice in a crater near the Moon's south "
                       "pole on Tuesday, the agency said. The ice lies about 40 centimetres below the surface.\n")
    page.get_by_role("tab", name="Library").click()
    page.set_input_files("#upload input[type=file]", str(article))
    page.locator("#library-table", has_text="Lunar rover finds water ice").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "Added 1" in page.locator("#library-status").inner_text()
    assert (Path(engine.settings.data_dir) / "uploads" / "lunar_rover.md").is_file()

    page.get_by_role("tab", name="Chat").click()
    ask(page, "Where did the lunar rover find water ice?")
    page.locator("#chat a[href='#src-1']").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "south pole" in last_answer(page).inner_text()
    assert "Lunar rover finds water ice" in page.locator("#sources").inner_text()  # cited: the new article

    other = browser.new_context().new_page()  # another visitor: not listed, not answered from, not removable
    other.goto(url, wait_until="load")
    other.get_by_role("tab", name="Library").click()
    other.locator("#library-table", has_text=engine.documents()[0].title[:20]).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "Lunar rover" not in other.locator("#library-table").inner_text()
    other.click("#remove-pick input")
    assert other.get_by_role("option", name="Lunar rover finds water ice").count() == 0
    other.get_by_role("tab", name="Chat").click()
    ask(other, "Where did the lunar rover find water ice?")
    other.wait_for_function("() => { const bot = [...document.querySelectorAll('#chat [data-testid=bot]')].pop();"
                            " return bot && bot.innerText.trim() && !/Searching|Generating|Waiting/.test(bot.innerText); }",
                            timeout=ANSWER_TIMEOUT_MS)
    assert "Lunar rover finds water ice" not in other.locator("#sources").inner_text()
    other.context.close()

    page.get_by_role("tab", name="Library").click()
    page.click("#remove-pick input")
    page.get_by_role("option", name="Lunar rover finds water ice").click()
    page.click("#remove")
    page.locator("#library-status", has_text="Removed").wait_for()
    assert "Lunar rover" not in page.locator("#library-table").inner_text()
    assert all("Lunar rover" not in doc.title for doc in engine.documents())


def test_an_article_s_image_and_links_are_shown_as_words(page: Page, served: tuple[str, NewsRAG],
                                                         tmp_path: Path) -> None:
    """An answer quoting an article that carries an image tag, a Markdown image and a link loads no image
    (the page fixture fails on any request off 127.0.0.1; 127.0.0.2 never leaves the machine) and links
    only to its sources or to the address it shows."""
    url, engine = served
    article = tmp_path / "springfield.txt"
    article.write_text("Springfield library budget\n\nThe Springfield council approved a budget of 7 million "
                       'dollars for the new library <img src="http://127.0.0.2:9/pixel.png?c=1"> '
                       "![chart](http://127.0.0.2:9/chart.png) [details](http://127.0.0.2:9/) on Monday.\n\n"
                       "The mayor said the library will open next spring.\n")
    engine.ingest([article])
    try:
        ask(page, "How large is the budget the Springfield council approved for the new library?")
        page.locator("#chat a[href='#src-1']").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
        answer = last_answer(page)
        assert "7 million" in answer.inner_text() and "<img src=" in answer.inner_text()  # the words, as words
        assert answer.locator("img").count() == 0
        links = answer.locator("a").evaluate_all("as => as.map(a => [a.getAttribute('href'), a.innerText])")
        # A bare address is made a link (the chat's renderer does so), but only ever to what it reads:
        # no link text of the article's choosing hides where it goes.
        assert all(href.startswith("#src-") or href == text for href, text in links), links
    finally:
        engine.remove(next(d.doc_id for d in engine.documents() if d.source_name == "springfield.txt"))


def test_the_page_under_rag_serve_answers_through_its_cross_site_guard(browser: Browser, tmp_path: Path) -> None:
    """`rag serve` refuses other sites' requests by their Origin and Host: the page's own requests (same
    origin, loopback name) must still go through, and an answer come back cited."""
    from rag.service import serve_in_thread
    from ui.launcher import build_server_app

    engine = NewsRAG(Settings(data_dir=tmp_path / "data", llm="extractive", ui_examples=0))
    with serve_in_thread(build_server_app(engine, seed_dir=SEEDS, say=lambda _: None)) as url:
        context = browser.new_context()
        tab = context.new_page()
        try:
            tab.goto(url + "/", wait_until="load")
            tab.wait_for_selector("#question textarea")
            ask(tab, FUNDING_QUESTION)
            tab.locator("#chat a[href='#src-1']").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
            assert "64.1 billion" in last_answer(tab).inner_text()
        finally:
            context.close()


def test_backend_error_is_a_chat_message_and_settings_apply_at_once(page: Page, served: tuple[str, NewsRAG],
                                                                   browser: Browser) -> None:
    engine = served[1]
    page.get_by_role("tab", name="Settings").click()
    assert page.locator("#settings-status").inner_text()  # no field for a URL, key or model file
    assert page.locator("#settings input[type=text], #settings input[type=password]").count() == 0
    choose_backend(page, "openai")  # the operator's server is down
    ask(page, FUNDING_QUESTION)
    page.locator("#chat :text('Could not generate an answer')").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "Cannot connect" in last_answer(page).inner_text()
    assert page.locator("#sources h3").inner_text() == "Retrieved passages"
    assert engine.settings.llm == "extractive"  # the choice is this tab's, not the server's

    other = browser.new_context().new_page()  # another visitor, meanwhile: still the operator's backend
    other.goto(served[0], wait_until="load")
    ask(other, FUNDING_QUESTION)
    other.locator("#chat a[href='#src-1']").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "extractive" in last_answer(other).inner_text()
    other.context.close()

    page.get_by_role("tab", name="Settings").click()
    page.locator("#show-scores input").check()
    choose_backend(page, "extractive")
    ask(page, FUNDING_QUESTION)  # the app is still running, and now answers
    page.locator("#chat a[href='#src-1']").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "retrieval scores: fused" in page.locator("#sources").inner_text()


def test_slow_backend_shows_progress_and_can_be_stopped(page: Page, served: tuple[str, NewsRAG],
                                                        hung_server: str) -> None:
    engine = served[1]
    engine.configure(llm="openai", openai_base_url=hung_server, openai_api_key=SecretStr("unused"))
    try:
        ask(page, FUNDING_QUESTION)
        page.locator("#chat [data-testid=bot]", has_text="Generating with openai… 2 s").wait_for()  # it ticks
        page.locator("#question button", has_text="Stop").click()
        page.locator("#chat [data-testid=bot]", has_text="Stopped before the answer was finished").wait_for()
        page.locator("#question button", has_text="Ask").wait_for()
    finally:
        engine.configure(llm="extractive", openai_base_url=DOWN_SERVER, openai_api_key=None)


@pytest.fixture
def hung_server() -> Iterator[str]:
    """An OpenAI-compatible base URL whose server accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept_and_hold() -> None:
        try:
            while True:
                held.append(listener.accept()[0])
        except OSError:  # the listener was closed: the test is over
            pass

    threading.Thread(target=accept_and_hold, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    listener.close()
    for connection in held:
        connection.close()


def choose_backend(page: Page, backend: str) -> None:
    page.get_by_role("tab", name="Settings").click()
    page.get_by_label(backend, exact=True).check()
    page.click("#apply-settings")
    page.locator("#settings-status", has_text=f"Answering with {backend}").wait_for()
    page.get_by_role("tab", name="Chat").click()


@pytest.mark.slow
def test_local_model_streams_words_before_the_checked_answer(page: Page, served: tuple[str, NewsRAG]) -> None:
    """Settings switch to the local model at run time; its words appear as they are written."""
    engine = served[1]
    page.get_by_role("tab", name="Settings").click()
    page.locator("#top-k input[type=number]").fill("1")  # one passage: the shortest prompt
    page.locator("#top-k input[type=number]").press("Enter")
    choose_backend(page, "local")  # this tab only: the engine's own settings stay
    assert engine.settings.llm == "extractive" and engine.settings.top_k == 4
    ask(page, FUNDING_QUESTION)
    states = watch_answer(page, until="prompt tokens", seconds=240)
    assert any("Searching the articles" in s or "Generating" in s for s in states[:3]), states[:3]
    # How many intermediate frames a 50 ms poll catches depends on the machine's speed; what a user
    # must see is the model's words on screen (with the cursor) before the checked answer replaces them.
    partial = [s for s in states if "▌" in s]
    assert partial, f"expected words to appear before the final answer, saw {states}"
    assert states.index(partial[0]) < len(states) - 1 and partial[0].split("▌")[0].strip()
    final = states[-1]
    assert "▌" not in final and "qwen" in final and "[1]" in final
    page.locator("#chat a[href='#src-1']").first.click()
    page.locator("#sources details#src-1[open] mark").wait_for(state="visible")
    picture = README_SCREENSHOT if os.environ.get("NEWS_RAG_UPDATE_SCREENSHOT") == "1" else ARTIFACTS / "ui.png"
    picture.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(picture))  # the README's picture: a model's cited answer, source open


def watch_answer(page: Page, until: str, seconds: float) -> list[str]:
    """Every distinct text the last answer shows, polled every 50 ms, until ``until`` appears."""
    states: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        bots = page.locator("#chat [data-testid=bot]")
        text = bots.last.inner_text() if bots.count() else ""
        if text and (not states or states[-1] != text):
            states.append(text)
        if until in text:
            return states
        time.sleep(0.05)
    raise AssertionError(f"no final answer within {seconds} s; saw {states[-3:]}")
