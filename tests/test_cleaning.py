"""Cleaning keeps every sentence of the article body and drops page furniture around it."""

from __future__ import annotations

import dataclasses
import json
import socket
from pathlib import Path

import pytest

from rag.cleaning import CleanedArticle, clean_html, clean_markdown, clean_text

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data" / "cleaning"
PAGES = Path(__file__).resolve().parent / "data" / "html"  # real saved news pages, see its README
EXPECTED = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))


def _seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def _paragraphs(article: CleanedArticle) -> list[str]:
    return article.text.split("\n\n")


def _assert_gone(article: CleanedArticle, junk: list[str]) -> None:
    paragraphs = _paragraphs(article)
    for line in junk:
        assert line not in paragraphs, line
        if len(line) > 15:
            assert line not in article.text, line


def _assert_kept(article: CleanedArticle, body: list[str]) -> None:
    for paragraph in body:
        assert paragraph in article.text, paragraph


# Per seed, chosen by hand: the body's line range (1-based, inclusive) in the seed file, the
# lines inside that range that are not body (or may go either way), the headline, the
# publisher (None: not asserted) and the junk lines that must be gone.
SEED_CASES = {
    "000": dict(
        body=(12, 26),
        not_body=[],
        title="Zelensky to Trump: Come to Ukraine and Help 'End the War'",
        publisher="International Business Times",
        byline="Matias Civita",
        junk=[
            "Get all your news in one place.", "100’s of premium titles.", "One app.", "Start reading",
            "International Business Times", "World", "Matias Civita", "Sign up to read this article",
            "Read news from 100’s of titles, curated specifically for you.", "Already a member? Sign in here",
            "Related Stories", "Top stories on inkl right now",
            "One subscription that gives you access to news from hundreds of sites", "Our Picks",
            "Fourteen days free", "Download the app", "One app. One membership.", "100+ trusted global sources.",
        ],
    ),
    "001": dict(
        body=(7, 43),
        not_body=["NATO membership"],  # a section heading: allowed either way
        title="Zelensky wants to ‘work directly’ with Trump on ending Ukraine’s war with Russia",
        publisher="cnn.com",
        byline="",
        junk=["Latest News", "Pinterest LinkedIn Tumblr", "This post appeared first on cnn.com"],
    ),
    "002": dict(
        body=(3, 23),
        not_body=[],
        title="Trump Advocates for Ukraine Ceasefire Following Meeting with Zelensky",
        publisher=None,
        byline="",
        junk=["This website uses cookies to improve your experience.", "We'll assume you're ok with this",
              "Accept Read More"],
    ),
    "003": dict(
        body=(2, 9),
        not_body=[],
        title="Donald Trump urged an immediate ceasefire and the start of negotiations between Ukraine and "
        "Russia to end the ongoing war",
        publisher=None,
        byline="",
        junk=[],
    ),
    "004": dict(
        body=(2, 17),
        not_body=[
            "- list 1 of 3Russia-Ukraine war: List of key events, day 1,436",
            "- list 2 of 3Russia to pause bombing Kyiv during extreme winter conditions, says Trump",
            "- list 3 of 3Zelenskyy seeks 50,000 Russian ‘losses’ a month to win the Ukraine war",
            "end of list",
            "Advertisement",
        ],
        title="Ukrainian President Zelenskyy invites Putin to Kyiv for talks",
        publisher=None,
        byline="",
        junk=[
            "list 1 of 3", "list 2 of 3", "list 3 of 3", "end of list", "Advertisement", "Related News",
            "‘Finger on the trigger’: Iran warns of quick retaliation after US threats",
            "Voters in Portugal electing new president, could be far-right winner",
            "Remains of last Israeli captive in Gaza retrieved, says Israel",
        ],
    ),
}

# Hand-picked paragraphs, written out so the test reads on its own: first and last body
# paragraphs, short ones, quote-only ones and credit lines.
KEY_PARAGRAPHS = {
    "000": [
        "While answering questions from reporters, Ukrainian President Volodymyr Zelensky suggested that U.S. "
        "President Donald Trump should come to Ukraine as an indication of reaching an end to the war with Russia.",
        "Prior to the meeting, Russian Foreign Minister Sergei Lavrov publicly accused Ukraine of deploying 91 "
        "long-range drones targeting Russian President Vladimir Putin's home on Sunday night.",
        "Though he also indicated that U.S. intelligence agencies would investigate whether any evidence existed "
        "to support Russia's allegations.",
    ],
    "001": [
        "Ukrainian President Volodymyr Zelensky says he wants to work “directly” with US President-elect Donald "
        "Trump and is open to his ideas, highlighting Kyiv’s eagerness to keep its most important ally onside as "
        "Russia intensifies its attacks.",
        "Kellogg favors a ceasefire and peace talks between Moscow and Kyiv, which would include security "
        "guarantees for Ukraine to protect against future Russian invasions.",
        "He admitted that he was afraid Ukraine might lose the war, and particularly the independence of its "
        "people. “If we will be alone, we will lose,” he said.",
        "Maria Kostenko contributed to this report.",
    ],
    "002": [
        "US President-elect Donald Trump has called for an immediate ceasefire and negotiations between Ukraine "
        "and Russia to end “the madness,” leading Ukrainian President Volodymr Zelensky to assert that there can "
        "be no peace without guarantees.",
        "He vowed to work towards a negotiated resolution of the conflict, though specific details have yet to be "
        "disclosed.",
        "“To ensure that Ukrainians no longer face losses, we must secure the reliability of peace and not ignore "
        "the issue of occupation.”",
        "“The conflict cannot simply conclude with a piece of paper and some signatures. A ceasefire without "
        "guarantees can be reignited at any moment, as Putin has demonstrated before.”",
        "Mr. Zelensky reported that 43,000 soldiers have been killed and around 370,000 wounded during the war.",
    ],
    "003": [
        "Peskov said that Zelenskyy has banned contact with the Russian leadership through a special decree, "
        "which would have to be revoked if talks were to proceed.",
        "For a peace deal, Ukraine must not join the NATO and Russia should be left fully in control of four "
        "Ukrainian regions his troops partially control at the moment for a peace deal to be done.",
    ],
    "004": [
        "Ukraine’s President Volodymyr Zelenskyy has invited Russian President Vladimir Putin to Kyiv for talks, "
        "“if he dares”.",
        "He noted that it was “very important for us that everyone we agreed with be present at the meeting”.",
        "However, several sticking points remain, including Russia’s demand for Ukrainian forces to withdraw from "
        "about one-fifth of the Donetsk region, and the potential deployment of international peacekeepers in "
        "Ukraine after the war.",
    ],
}


@pytest.mark.parametrize("seed", sorted(SEED_CASES))
def test_seed_keeps_every_body_line(seed: str) -> None:
    case = SEED_CASES[seed]
    article = clean_text(_seed(seed))
    first, last = case["body"]
    lines = _seed(seed).splitlines()[first - 1 : last]
    body = [line.strip() for line in lines if line.strip() and line.strip() not in case["not_body"]]
    assert body, "the hand-picked range must hold body lines"
    _assert_kept(article, body)
    _assert_kept(article, KEY_PARAGRAPHS[seed])


@pytest.mark.parametrize("seed", sorted(SEED_CASES))
def test_seed_drops_boilerplate(seed: str) -> None:
    article = clean_text(_seed(seed))
    _assert_gone(article, SEED_CASES[seed]["junk"])
    for line in SEED_CASES[seed]["junk"]:
        if line in _seed(seed).splitlines():
            assert line in article.removed_lines


@pytest.mark.parametrize("seed", sorted(SEED_CASES))
def test_seed_metadata(seed: str) -> None:
    case = SEED_CASES[seed]
    article = clean_text(_seed(seed))
    assert article.title == case["title"]
    assert _paragraphs(article)[0] == case["title"], "the headline stays as the first paragraph"
    if case["publisher"] is not None:
        assert article.publisher == case["publisher"]
    assert article.byline == case["byline"]
    assert article.published == ""


@pytest.mark.parametrize("seed", sorted(SEED_CASES))
def test_seed_output_is_normalised(seed: str) -> None:
    text = clean_text(_seed(seed)).text
    assert "\n\n\n" not in text
    assert all(line == line.strip() for line in text.split("\n"))
    assert all(paragraph for paragraph in _paragraphs(clean_text(_seed(seed))))
    assert clean_text(text).text == text, "cleaning is idempotent"


HAND_MADE_BODY = [
    "River town opens its first solar cooperative",
    "More than 200 households in the river town of Elden have joined a new solar cooperative, which began "
    "selling power to the regional grid on Monday.",
    "The cooperative raised its starting capital from members, who each bought a share worth 250 euros, and "
    "from a small grant from the regional government.",
    "“People wanted a say in where their electricity comes from,” said chair Tomas Berg. “Now they have one.”",
    "Local bakers, who had complained about energy bills for years, said the cooperative could save them enough "
    "to keep selling cookies at last year’s prices, while several members said they had cancelled their "
    "subscription to a rival green tariff, and one said she would subscribe to the cooperative’s monthly report.",
    "Regulators fined a rival supplier last year for placing cookies without consent.",
    "Berg said a second array would be built on the school roof next spring.",
]

# An article that is not from the seeds, with other wordings of the same kinds of page furniture.
HAND_MADE = "\n".join(
    [
        "Skip to content",
        "Business",
        HAND_MADE_BODY[0],
        "By Priya Natarajan",
        "Published 3 March 2025, 09:15",
        "Share this article: Facebook Twitter Email",
        "",
        HAND_MADE_BODY[1],
        "",
        HAND_MADE_BODY[2],
        "",
        "ADVERTISEMENT",
        "",
        HAND_MADE_BODY[3],
        "",
        HAND_MADE_BODY[4],
        "",
        HAND_MADE_BODY[5],
        "",
        "Subscribe to our newsletter",
        "Get the week’s best stories delivered to your inbox.",
        "",
        HAND_MADE_BODY[6],
        "",
        'We use cookies to give you the best experience on our site. By clicking "Got it" you agree to our use of '
        "cookies. Got it",
        "You may also like",
        "Wind farm approved despite local protests",
        "Five things to know about heat pumps",
        "More from Elden Gazette",
        "Council election date set",
    ]
)

HAND_MADE_JUNK = [
    "Skip to content", "Business", "By Priya Natarajan", "Published 3 March 2025, 09:15",
    "Share this article: Facebook Twitter Email", "ADVERTISEMENT", "Subscribe to our newsletter",
    "Get the week’s best stories delivered to your inbox.", "We use cookies", "You may also like",
    "Wind farm approved despite local protests", "Five things to know about heat pumps", "More from Elden Gazette",
    "Council election date set",
]


def test_hand_made_article_keeps_body_and_drops_junk() -> None:
    article = clean_text(HAND_MADE)
    assert _paragraphs(article) == HAND_MADE_BODY
    _assert_gone(article, HAND_MADE_JUNK)
    assert article.title == "River town opens its first solar cooperative"
    assert article.byline == "Priya Natarajan"


@pytest.mark.parametrize(
    "junk",
    [
        "Advertisement",
        "SPONSORED CONTENT",
        "Story continues below advertisement",
        "Share on: WhatsApp | Telegram | Copy link",
        "Follow us on Instagram",
        "Read more: Mayor resigns after budget row",
        "Sign in to continue reading this story",
        "Already have an account? Log in",
        "Download our free app for breaking alerts",
        "This content is only available to subscribers.",
        "By continuing to browse this site you agree to our use of cookies.",
        "Our site uses cookies to analyse traffic. Manage settings or accept all.",
        "Recommended for you",
        "Most read",
        "Tags: energy, climate, local",
        "Photo: Jane Roe/Agency",
        "© 2025 Elden Gazette. All rights reserved.",
    ],
)
def test_general_boilerplate_lines_are_dropped_mid_article(junk: str) -> None:
    first = "The council approved the new budget on Tuesday after a long debate that lasted well into the night."
    second = "Opposition members said they would keep pressing for lower fees at the harbour and in the old town."
    article = clean_text(f"Council approves the harbour budget\n\n{first}\n\n{junk}\n\n{second}\n")
    assert _paragraphs(article) == ["Council approves the harbour budget", first, second]
    assert junk in article.removed_lines


@pytest.mark.parametrize("fragment", ["end of list", "mehr anzeigen", "voir plus"])
def test_short_lowercase_fragments_go_but_headings_and_brand_names_stay(fragment: str) -> None:
    """A widget's few lowercase words are neither prose nor a heading, whatever the site or language."""
    first = "The council approved the new budget on Tuesday after a long debate that lasted well into the night."
    second = "Opposition members said they would keep pressing for lower fees at the harbour and in the old town."
    third = "The new fees take effect in May, the council said in a statement after the vote."
    raw = "\n\n".join(["Council approves harbour budget", first, "iPhone sales slump", second, fragment, third])
    article = clean_text(raw)
    assert _paragraphs(article) == ["Council approves harbour budget", first, "iPhone sales slump", second, third]
    assert fragment in article.removed_lines


def test_related_list_in_the_middle_goes_and_the_body_after_it_stays() -> None:
    first = "The council approved the new budget on Tuesday after a long debate that lasted well into the night."
    second = "Opposition members said they would keep pressing for lower fees at the harbour and in the old town."
    raw = "\n".join(["Council approves harbour budget", first, "Related coverage:", "Harbour fees to double",
                     "Ferry operator files for bankruptcy", second, "It takes effect in May."])
    assert _paragraphs(clean_text(raw)) == ["Council approves harbour budget", first, second, "It takes effect in May."]


def test_repeated_headline_is_still_the_title() -> None:
    headline = "Ferry strike ends after three weeks of talks"
    body = "Ferry crews returned to work on Monday after unions and operators agreed a new pay deal late on Sunday."
    article = clean_text(f"{headline}\n{headline}\n{body}")
    assert article.title == headline
    assert _paragraphs(article) == [headline, body]


@pytest.mark.parametrize(
    "sentence",
    [
        "The bakery sold out of cookies by noon, and the owner said she would subscribe to a second delivery.",
        "Share prices fell sharply after the company said it would stop using third-party cookies.",
        "Readers who sign up before March will get the printed guide, the publisher said in a statement.",
        "“You should accept the cookie policy only if you understand it,” the regulator told a committee "
        "of lawmakers on Thursday, adding that most people never read the settings.",
        "Related talks are expected in Geneva next week.",
        "Copyright lawyers said the ruling would be appealed.",
        "Published figures show 12 farms are affected.",  # a dateline's label, but no date after it
        "Photographers said the new rules were unclear.",
        "He declined to comment.",
        "(Reporting by Jane Roe; editing by John Doe)",
    ],
)
def test_body_sentences_with_boilerplate_words_survive(sentence: str) -> None:
    first = "The city council approved the plan on Tuesday after a debate that lasted well into the night."
    article = clean_text(f"Plan approved after long debate\n\n{first}\n\n{sentence}\n\nIt takes effect in May.\n")
    assert sentence in _paragraphs(article)


def test_hard_wrapped_text_is_joined_into_paragraphs() -> None:
    raw = (
        "Storm closes mountain pass\n\n"
        "Heavy snow closed the main mountain pass on Sunday, stranding dozens of\n"
        "drivers overnight, according to the regional police.\n\n"
        "Crews expect to reopen the road by Tuesday, weather permitting, and\n"
        "urged drivers to use the valley route in the meantime.\n"
    )
    article = clean_text(raw)
    assert _paragraphs(article) == [
        "Storm closes mountain pass",
        "Heavy snow closed the main mountain pass on Sunday, stranding dozens of drivers overnight, according to "
        "the regional police.",
        "Crews expect to reopen the road by Tuesday, weather permitting, and urged drivers to use the valley route "
        "in the meantime.",
    ]


def test_whitespace_and_unicode_are_normalised() -> None:
    raw = (
        "Cafe\u0301 owners   protest new rules  \r\n\r\n\r\n\r\nOwners of the city’s cafe\u0301s said on Monday  "
        "that the\u00a0new rules were “unworkable” and would cost jobs across town.   \r\n"
    )
    article = clean_text(raw)
    assert article.text == (
        "Café owners protest new rules\n\nOwners of the city’s cafés said on Monday that the new rules were "
        "“unworkable” and would cost jobs across town."
    )
    assert article.title == "Café owners protest new rules"


def test_html_article_keeps_body_drops_chrome_and_reads_metadata() -> None:
    article = clean_html((DATA / "article.html").read_text(encoding="utf-8"))
    assert article.title == "Harbour city votes to ban cruise ships from old port"
    assert article.publisher == "The Coastal Ledger"
    assert article.byline == "Elena Marquez"
    assert article.published == "2024-05-14T08:30:00+00:00"
    assert _paragraphs(article) == [
        "Harbour city votes to ban cruise ships from old port",
        "The city council voted 9 to 4 on Tuesday night to ban large cruise ships from mooring in the old port, "
        "ending a decade-long fight between residents and the tourism industry.",
        "Ships carrying more than 1,000 passengers will have to use the new terminal across the bay from 2026, "
        "according to the motion passed after a five-hour debate.",
        "Residents divided",
        "“We have waited for this moment for ten years,” said Marta Ruiz, who leads the residents’ association. "
        "“The old town can breathe again.”",
        "Shop owners were less enthusiastic. Some cafés near the quay said cruise passengers account for half of "
        "their summer sales, and one baker joked that tourists came for the harbour but stayed for the cookies.",
        "Readers who subscribe to the council’s bulletin will be told when the new terminal opens, officials said.",
        "The port authority has 30 days to appeal.",
    ]
    for junk in ["News", "Subscribe for $1 a week", "We value your privacy", "Facebook", "Advertisement",
                 "loadAd", "Photo: Ledger", "Get the Morning Ledger", "Sign up for our free newsletter",
                 "Related stories", "Tourism numbers hit record high", "You may also like", "Ten beaches",
                 "All rights reserved", "Cookie settings", "enable JavaScript", "analytics", "dataLayer",
                 "font-family", "By Elena Marquez", "14 May 2024"]:
        assert junk not in article.text, junk


def test_html_falls_back_to_title_tag_and_time_element() -> None:
    page = """<html><head><title>Dam repairs finished early – Valley Post</title></head><body>
    <div class="subscriber-content post-body">
      <p>Engineers finished repairing the old dam three weeks ahead of schedule, the water board said on Friday.</p>
      <p>Fishing is allowed again from <time datetime="2023-09-01">1 September</time>.</p>
      <p>Read <a href="/report">the water board's full report on the repairs</a> here.</p>
      <ul><li><a href="/x">Flood defences upgraded</a></li><li><a href="/y">Reservoir levels rise</a></li></ul>
    </div>
    <div id="comments"><p>Great news for the valley, said nobody important in the comment section today.</p></div>
    </body></html>"""
    article = clean_html(page)
    assert article.title == "Dam repairs finished early"
    assert article.published == "2023-09-01T00:00:00"
    assert _paragraphs(article) == [
        "Dam repairs finished early",
        "Engineers finished repairing the old dam three weeks ahead of schedule, the water board said on Friday.",
        "Fishing is allowed again from 1 September.",
        "Read the water board's full report on the repairs here.",
    ]
    assert "Flood defences upgraded" not in article.text, "a block of links is a link list"


@pytest.fixture(scope="module")
def saved_pages() -> dict[str, CleanedArticle]:
    """Each saved page cleaned once (trafilatura takes a fraction of a second per page)."""
    return {name: clean_html((PAGES / name).read_text(encoding="utf-8")) for name in EXPECTED}


def _body(name: str) -> list[str]:
    return (PAGES / name.replace(".html", ".body.txt")).read_text(encoding="utf-8").splitlines()


def test_saved_pages_cover_several_languages() -> None:
    assert {case["language"] for case in EXPECTED.values()} >= {"en", "de", "fr"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_saved_page_keeps_the_body(name: str, saved_pages: dict[str, CleanedArticle]) -> None:
    article = saved_pages[name]
    _assert_kept(article, EXPECTED[name]["key"])
    body = _body(name)
    kept = [paragraph for paragraph in body if paragraph in article.text]
    assert len(kept) >= 0.9 * len(body), [paragraph for paragraph in body if paragraph not in kept]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_saved_page_drops_menus_banners_related_links_and_share_buttons(
    name: str, saved_pages: dict[str, CleanedArticle]
) -> None:
    _assert_gone(saved_pages[name], EXPECTED[name]["boilerplate"])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_saved_page_metadata(name: str, saved_pages: dict[str, CleanedArticle]) -> None:
    article, case = saved_pages[name], EXPECTED[name]
    assert article.title == case["title"]
    assert _paragraphs(article)[0] == case["title"], "the headline is the first paragraph, once"
    assert _paragraphs(article).count(case["title"]) == 1
    assert article.published == case["published"]
    assert article.publisher == case["publisher"]
    if case["byline"] is not None:
        assert article.byline == case["byline"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_saved_page_output_is_normalised(name: str, saved_pages: dict[str, CleanedArticle]) -> None:
    paragraphs = _paragraphs(saved_pages[name])
    assert all(p and p == " ".join(p.split()) for p in paragraphs), "one line per paragraph, single spaces"
    assert len(paragraphs) == len({p.casefold() for p in paragraphs}), "no paragraph twice"


def test_html_cleaning_is_repeatable_and_does_not_depend_on_earlier_pages() -> None:
    first, other = sorted(EXPECTED)[:2]
    page = (PAGES / first).read_text(encoding="utf-8")
    before = clean_html(page)
    clean_html((PAGES / other).read_text(encoding="utf-8"))
    assert clean_html(page) == before


def test_html_cleaning_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """htmldate downloads a string that starts with "http": clean_html only ever hands it a parsed tree."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert clean_html("https://example.com/news/story.html").text == "https://example.com/news/story.html"
    name = sorted(EXPECTED)[0]
    assert clean_html((PAGES / name).read_text(encoding="utf-8")).title == EXPECTED[name]["title"]


def test_html_fragment_and_plain_text_in_an_html_file_are_kept() -> None:
    """trafilatura refuses what does not look like a whole document; those pages are still read."""
    sentence = "The ferry returned to service on Saturday after a week of repairs."
    assert clean_html(f"<p>{sentence}</p>").text == sentence
    assert clean_html(sentence).text == sentence


def test_html_link_only_lines_and_repeated_pull_quotes_go() -> None:
    """trafilatura keeps a line that is only a link ("Read more: <link>", as on dw.com)."""
    body = ["The council voted on Tuesday to ban cruise ships from the old port after a long debate.",
            "“We have waited ten years for this,” said the head of the residents’ association on Wednesday.",
            "Shop owners near the quay said cruise passengers bring in half of their summer sales.",
            "The port authority has thirty days to appeal the decision, officials said."]
    page = f"""<html><head><title>Harbour bans cruise ships</title></head><body><article>
    <h1>Harbour bans cruise ships</h1>
    <p>{body[0]}</p><p>Read more: <a href="/a">Tourism numbers hit a record high this summer</a></p>
    <p>{body[1]}</p><p>{body[2]}</p><p>{body[3]}</p><h4>{body[1]}</h4></article></body></html>"""
    article = clean_html(page)
    assert _paragraphs(article) == ["Harbour bans cruise ships", *body]
    assert "Read more: Tourism numbers hit a record high this summer" in article.removed_lines


def test_html_date_is_the_publication_not_the_last_update() -> None:
    """htmldate prefers a last-modified meta tag to the <time> of the article; the wrapper does not."""
    sentences = " ".join(f"Sentence {n} of a report on the new ferry timetable for the islands." for n in range(8))
    page = f"""<html><head><meta name="last-modified" content="Fr, 17 Mai 2019 13:38:23 MESZ">
    <title>Ferry timetable</title></head><body><article><h1>Ferry timetable</h1>
    <time datetime="2019-05-15 05:28:29">15. Mai 2019</time><p>{sentences}</p></article></body></html>"""
    assert clean_html(page).published == "2019-05-15T05:28:29"


MARKDOWN = """# Lighthouse keeper retires after 40 years

![The lighthouse at dusk](https://example.com/img/lighthouse.jpg)

*By Sam Okafor*

After **four decades** on the rock, keeper [Ana Lind](https://example.com/people/ana) switched off the
lamp for the last time on Sunday, handing the light over to an automatic system.

## A life at sea

She said the _quiet_ was what she would miss most, and that the gulls had become `her only colleagues`
over the long winters.

> “I never once felt alone out there,” she said.

Related:

- [Coast guard budget cut](https://example.com/a)
- [Storm season starts early](https://example.com/b)

[ref]: https://example.com/ref
"""


def test_markdown_markup_is_stripped_and_text_kept() -> None:
    article = clean_markdown(MARKDOWN)
    assert article.title == "Lighthouse keeper retires after 40 years"
    assert article.byline == "Sam Okafor"
    assert _paragraphs(article) == [
        "Lighthouse keeper retires after 40 years",
        "After four decades on the rock, keeper Ana Lind switched off the lamp for the last time on Sunday, "
        "handing the light over to an automatic system.",
        "A life at sea",
        "She said the quiet was what she would miss most, and that the gulls had become her only colleagues over "
        "the long winters.",
        "“I never once felt alone out there,” she said.",
    ]
    for junk in ["https://", "![", "](", "#", "**", "Coast guard budget cut", "Related"]:
        assert junk not in article.text, junk


BODY = "Dock workers in Brest ended a ten-day strike on Friday after the port agreed to raise wages."


@pytest.mark.parametrize("head", [
    '---\ntitle: "Port strike ends"\ndate: 2024-12-09T10:00:00Z\nauthor: [Jane Doe, Li Wei]\ntags: [ports]\n---\n',
    '+++\ntitle = "Port strike ends"\ndate = 2024-12-09T10:00:00Z\nauthors = ["Jane Doe", "Li Wei"]\n+++\n',
])
def test_markdown_front_matter_is_the_articles_metadata_not_its_first_paragraph(head: str) -> None:
    """Jekyll/Hugo/Obsidian exports open with YAML (or Hugo's TOML) front matter. It was read as text: the
    headline became 'title: "Port strike ends" date: ... author: ...' and the first passage its metadata."""
    article = clean_markdown(head + "\n" + BODY + "\n")
    assert (article.title, article.byline) == ("Port strike ends", "Jane Doe, Li Wei")
    assert article.published.startswith("2024-12-09T10:00:00")
    assert _paragraphs(article) == ["Port strike ends", BODY]


def test_front_matter_aliases_cannot_blow_up_an_uploaded_file() -> None:
    """YAML aliases nest lists at no cost: "author: *a6" below is ten million names, which took 5 s and a
    30 MB byline; two levels more would exhaust the server. Lists are read one level deep, fields cut short."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    article = clean_markdown("---\n" + "\n".join(levels) + "\nauthor: *a8\ntitle: T\n---\n\n" + BODY)
    assert article.title == "T" and len(article.byline) <= 500 and BODY in article.text


def test_a_block_between_rules_that_is_no_front_matter_is_read_as_text() -> None:
    note = clean_markdown("---\nNote: the figures are provisional.\n---\n\n" + BODY)  # a mapping, but no known field
    assert "the figures are provisional" in note.text and BODY in note.text
    broken = clean_markdown("---\n{not: [yaml\nand a line of prose\n---\n\n" + BODY)  # neither YAML nor fields
    assert BODY in broken.text and "and a line of prose" in broken.text and broken.published == ""
    # Hand-written front matter that YAML refuses (an unquoted colon) is read as "key: value" lines.
    colon = clean_markdown("---\ntitle: Breaking: port strike ends\ndate: 2024-12-09\n---\n\n" + BODY)
    assert colon.title == "Breaking: port strike ends" and colon.published.startswith("2024-12-09")
    assert _paragraphs(colon) == ["Breaking: port strike ends", BODY]


@pytest.mark.parametrize("clean", [clean_text, clean_markdown])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_header_of_fields_is_the_articles_metadata(clean, newline: str) -> None:
    """"Title: / Date: / Author:" lines (Pelican, MultiMarkdown, many hand-made archives) were the article's
    headline and first passage: 'Title: Port strike ends' was its title."""
    raw = newline.join(["Title: Port strike ends", "Date: 2024-12-09 10:20", "Author: Jane Doe", "Source: Example Wire",
                        "Tags: ports, strikes", "", BODY, ""])
    article = clean(raw)
    assert (article.title, article.byline, article.publisher) == ("Port strike ends", "Jane Doe", "Example Wire")
    assert article.published.startswith("2024-12-09T10:20")
    assert _paragraphs(article) == ["Port strike ends", BODY]


@pytest.mark.parametrize("opening", [
    "Update: the death toll rose to 12.",  # a field-like sentence, but no title, date, author or source
    "Washington: The president signed the bill on Monday.",
    "Title: Port strike ends\nThe union said ships would be unloaded from Monday.",  # the block is not all fields
])
def test_an_opening_that_is_no_header_of_fields_stays_text(opening: str) -> None:
    article = clean_text(opening + "\n\n" + BODY)
    assert opening.split("\n")[-1] in article.text and BODY in article.text and article.published == ""


@pytest.mark.parametrize("clean", [clean_text, clean_markdown, clean_html])
@pytest.mark.parametrize("raw", ["", "   ", "\n\n\t \n", "\r\n"])
def test_empty_input_gives_empty_article(clean, raw: str) -> None:
    article = clean(raw)
    assert article.text == ""
    assert article.title == ""


def test_cleaned_article_is_frozen() -> None:
    article = clean_text("Headline of a short story\n\nA body sentence that is long enough to count as prose here.")
    with pytest.raises(dataclasses.FrozenInstanceError):
        article.text = "x"  # type: ignore[misc]


def test_a_consent_banner_on_a_short_page_is_not_article_text() -> None:
    """trafilatura keeps every paragraph of a short page, the consent banner's too: it was indexed with
    the story. A story about cookie consent keeps its sentences."""
    page = ('<html><head><title>Water main bursts on King Street</title></head><body><div id="consent"><p>We value '
            "your privacy. We and our 843 partners store and access information on your device, such as cookies, "
            "and process personal data for personalised advertising. You can accept or manage your choices at any "
            "time.</p><button>I accept</button></div><div class='story'><h1>Water main bursts on King Street</h1>"
            "<p>A water main burst on King Street early on Sunday, flooding three shops.</p><p>Regulators said "
            "the council's website placed cookies without consent and must ask visitors to accept them.</p>"
            "</div></body></html>")
    article = clean_html(page)
    assert "843 partners" not in article.text and "flooding three shops" in article.text
    assert "placed cookies without consent" in article.text


# --- a metadata title, the article's own lists -----------------------------------------------------------------

SHORT_BRIEF = ["Bus fares in Marston will stay at £2 this year, the council said.",
               "Season tickets fall to £45 a month"]


@pytest.mark.parametrize(("clean", "head"), [
    (clean_markdown, "---\ntitle: Bus fares frozen\ndate: 2024-03-01\n---\n"),
    (clean_text, "Title: Bus fares frozen\nDate: 2024-03-01\n\n"),
])
def test_a_metadata_title_the_body_does_not_repeat_keeps_the_opening(clean, head: str) -> None:
    """The headline was guessed in the body ("Season tickets fall to £45 a month", no full stop) and every
    line above the guess was dropped as chrome: a brief kept only its last line."""
    article = clean(head + "\n\n".join(SHORT_BRIEF) + "\n")
    assert article.title == "Bus fares frozen"
    assert _paragraphs(article) == ["Bus fares frozen", *SHORT_BRIEF]


def test_a_metadata_title_keeps_a_list_above_the_first_long_paragraph() -> None:
    facts = ["At a glance", "Two lanes closed until Friday", "Diversion via Mill Road", "Buses not affected"]
    prose = ("Two lanes of the ring road will stay closed until Friday while engineers repair a burst water main "
             "under the carriageway, the highways agency said on Monday.")
    article = clean_text("Title: Ring road closure\n\n" + "\n".join(facts) + "\n\n" + prose + "\n")
    assert _paragraphs(article) == ["Ring road closure", *facts, prose]


def test_a_metadata_title_the_body_repeats_is_kept_once() -> None:
    article = clean_markdown("---\ntitle: Bus fares frozen\n---\n\n# Bus fares frozen\n\n" + SHORT_BRIEF[0] + "\n")
    assert _paragraphs(article) == ["Bus fares frozen", SHORT_BRIEF[0]]


OPENING = ("The county library service will open three new branches next spring, its director said on Monday, after "
           "the council approved a £4 million budget.")
BRANCHES = ["Eastgate", "Hollow Lane", "St Mary's Quay"]


@pytest.mark.parametrize("raw", [
    "---\ntitle: Library opens three branches\n---\n\n" + OPENING + "\n\nThe new branches are:\n\n"
    + "".join(f"- {b}\n" for b in BRANCHES),                                          # Markdown bullets after ":"
    "# Library opens three branches\n\n" + OPENING + "\n\n" + "".join(f"* {b}\n" for b in BRANCHES),  # after prose
    "Library opens three branches\n\n" + OPENING + "\n\nThe new branches are:\n" + "\n".join(BRANCHES),  # plain lines
    "Library opens three branches\n\n" + OPENING + "\n" + "\n".join(f"{n}. {b}" for n, b in enumerate(BRANCHES, 1)),
])
def test_a_list_at_the_end_of_the_article_is_kept(raw: str) -> None:
    """Short unpunctuated lines after the last long paragraph were dropped as a trailing list of other
    headlines, and with them the list an article ends with (a Markdown bullet loses its "- ")."""
    clean = clean_markdown if raw.startswith(("---", "#")) else clean_text
    text = clean(raw).text
    assert OPENING in text
    assert all(branch in text for branch in BRANCHES), text


@pytest.mark.parametrize(("clean", "tail"), [
    (clean_text, ["Council tax to rise by 5%", "Town's oldest pub sold to brewery chain",
                  "Man fined for feeding pigeons"]),
    (clean_text, ["Elsewhere", "- Council tax to rise by 5%", "- Town's oldest pub sold to brewery chain"]),
    (clean_markdown, ["## Elsewhere", "- Council tax to rise by 5%", "- Town's oldest pub sold to brewery chain"]),
])
def test_other_headlines_after_the_article_still_go(clean, tail: list[str]) -> None:
    """The trailing rule's purpose: headlines of other stories pasted after an article, unmarked or under a
    bare heading, are not the article (its own list follows a sentence or a line ending in ":")."""
    article = clean("Library opens three branches\n\n" + OPENING + "\n\n" + "\n".join(tail) + "\n")
    assert _paragraphs(article) == ["Library opens three branches", OPENING]


# --- HTML: the site's name is no headline; furniture; a comment's date ------------------------------------------

HTML_BODY = ["A county judge ruled on Tuesday that 12 farms along the Wend River may keep drawing irrigation water.",
             "The state water board said it would study the ruling before deciding whether to appeal it.",
             "Farmers had argued that the 2019 order would have forced several of them to sell their herds."]
HEADLINE = "Farmers win court fight over river water"


def _page(head: str, body: str) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in HTML_BODY)
    return f"<html><head><meta charset='utf-8'>{head}</head><body>{body.replace('BODY', paragraphs)}</body></html>"


@pytest.mark.parametrize("page", [
    # og:title is the site's name (og:site_name says so); the headline is in JSON-LD and an <h2>
    _page('<title>Home - Valley Courier</title><meta property="og:title" content="Valley Courier">'
          '<meta property="og:site_name" content="Valley Courier"><script type="application/ld+json">{"@type": '
          f'"NewsArticle", "headline": "{HEADLINE}", "publisher": {{"name": "Valley Courier"}}}}</script>',
          f"<nav>Home | Farming</nav><h2>{HEADLINE}</h2>BODY"),
    # the site's name everywhere in <head>, the headline marked itemprop="headline"
    _page('<title>The Valley Courier</title><meta property="og:title" content="The Valley Courier">',
          f'<div class="story"><h1 itemprop="headline">{HEADLINE}</h1>BODY</div>'),
    # a logo in <h1>, the section and the site's name in <title>, the headline in <h2>
    _page("<title>Farming | The Valley Courier</title>",
          f'<h1>The Valley Courier</h1><div class="story"><h2>{HEADLINE}</h2>BODY</div>'),
])
def test_html_site_name_is_not_the_headline(page: str) -> None:
    """A page whose og:title (or only heading) is its site's name got that name as title and first
    paragraph, and the model cited it: "Valley Courier won the court fight"."""
    article = clean_html(page)
    assert article.title == HEADLINE
    assert _paragraphs(article) == [HEADLINE, *HTML_BODY]
    assert "Valley Courier" not in article.text


def test_html_site_name_is_no_title_even_without_a_headline() -> None:
    page = _page('<meta property="og:title" content="Valley Courier"><meta property="og:site_name" '
                 'content="Valley Courier">', "<div>BODY</div>")
    article = clean_html(page)
    assert article.title == "" and _paragraphs(article) == HTML_BODY


def test_html_title_loses_the_site_name_after_it() -> None:
    """The <h1> cut ("Headline | Site") missed a title whose quotes differ from the <h1>'s."""
    page = _page("<meta property='og:title' content=\"'We will rebuild': Farmers vow | The Valley Courier\">"
                 "<title>'We will rebuild': Farmers vow | The Valley Courier</title>",
                 "<h1>‘We will rebuild’: Farmers vow</h1>BODY")
    assert clean_html(page).title == "'We will rebuild': Farmers vow"


def test_html_real_title_beside_a_marked_headline_is_kept() -> None:
    """A title that is another wording of the headline the page marks up stays (Süddeutsche's og:title drops
    the kicker of its itemprop headline)."""
    page = _page('<meta property="og:title" content="Farmers win water fight">',
                 f'<h1 itemprop="headline">Court ruling: {HEADLINE}</h1>BODY')
    assert clean_html(page).title == "Farmers win water fight"


@pytest.mark.parametrize("junk", [
    "Want to keep reading? Subscribers get unlimited access to our journalism. Subscribe for $1. Already a "
    "subscriber? Log in.",
    "This story is for subscribers only",
    "Copyright 2024 Valley Courier Media. All rights reserved. This material may not be redistributed.",
    "© 2024 Valley Courier",
    "Last updated: 4 June 2024",
    "Published: 2024-06-03",
    "Got a story? Email newsdesk@courier.example",
])
@pytest.mark.parametrize("clean", [clean_text, clean_html])
def test_paywall_and_house_lines_go_in_text_and_html(clean, junk: str) -> None:
    """trafilatura keeps them as paragraphs, and the model cited "Subscribe for £1."; the text path's
    rules now serve HTML too, on whole short paragraphs only."""
    lines = [HTML_BODY[0], junk, *HTML_BODY[1:]]
    raw = (f"<html><body><article><h1>{HEADLINE}</h1>" + "".join(f"<p>{p}</p>" for p in lines)
           + "</article></body></html>") if clean is clean_html else "\n\n".join([HEADLINE, *lines])
    article = clean(raw)
    assert _paragraphs(article) == [HEADLINE, *HTML_BODY]


def test_html_prose_with_paywall_words_stays() -> None:
    sentences = ["Readers who subscribe before March will get the printed guide, the publisher said.",
                 "Copyright lawyers said the ruling would be appealed.",
                 "Published figures show 12 farms are affected."]
    page = f"<html><body><article><h1>{HEADLINE}</h1>" + "".join(f"<p>{p}</p>" for p in [*HTML_BODY, *sentences]) \
        + "</article></body></html>"
    assert _paragraphs(clean_html(page)) == [HEADLINE, *HTML_BODY, *sentences]


@pytest.mark.parametrize("aside", [
    '<section id="comments"><div class="comment"><b>Pete</b> <time datetime="2025-11-03T10:15:00Z">3 November 2025'
    "</time><p>Well done everyone!</p></div></section>",
    '<div class="sidebar"><h3>Weather</h3><p>Updated 07/12/2026 06:00</p></div>',
])
def test_html_date_is_never_a_comments_or_a_widgets(aside: str) -> None:
    """A page without a date of its own got its first reader comment's date, or a weather widget's "Updated" time."""
    undated = _page(f"<title>{HEADLINE}</title>", f"<article><h1>{HEADLINE}</h1>BODY</article>{aside}")
    assert clean_html(undated).published == ""
    dated = undated.replace("</h1>", '</h1><time datetime="2024-06-03T08:00:00Z">3 June 2024</time>')
    assert clean_html(dated).published.startswith("2024-06-03T08:00:00")


DOTTED = "Flood drives 1.200 families from Wend homes"  # "1.200": thousands as most of Europe and Indonesia write them


@pytest.mark.parametrize("h1", [DOTTED, f"{DOTTED} in Wend County"])
def test_a_site_name_only_in_the_title_is_the_publisher_not_the_headline(h1: str) -> None:
    """"<title>Headline - Site</title>" with a dotted number in the headline made trafilatura take the
    headline for a domain, so for the site's name: the article was then titled with its file name and
    published by its own headline (or by the start of it, when the <h1> goes on)."""
    article = clean_html(_page(f"<title>{DOTTED} - Wend Valley Courier</title>", f"<article><h1>{h1}</h1>BODY</article>"))
    assert (article.title, article.publisher) == (h1, "Wend Valley Courier")


@pytest.mark.parametrize(("written", "iso"), [
    ("14 listopada 2023, 12:05", "2023-11-14T12:05:00"), ("Selasa, 14 Nopember 2023 10:30 WIB", "2023-11-14T03:30:00"),
    ("2024年4月18日 23時15分", "2024-04-18T23:15:00"),
])
def test_an_html_time_element_is_read_in_any_language(written: str, iso: str) -> None:
    """htmldate reads English month names only: a Polish, Indonesian or Japanese page whose <time> says when
    it was published was indexed undated, so date-filtered searches never found it; a feed's were read."""
    page = _page(f"<title>{HEADLINE}</title>", f"<article><h1>{HEADLINE}</h1><time>{written}</time>BODY</article>")
    assert clean_html(page).published.startswith(iso)


@pytest.mark.parametrize(("meta", "iso"), [
    ('<meta name="date" content="5 marca 2024">', "2024-03-05"),
    ('<meta name="pubdate" content="11 tháng 5, 2024">', "2024-05-11"),
    ('<meta property="article:published_time" content="14 listopada 2023, 12:05">', "2023-11-14T12:05:00"),
])
def test_a_publication_date_meta_tag_is_read_in_any_language(meta: str, iso: str) -> None:
    """Meta tags went to htmldate only, which reads English month names: a Polish or Vietnamese page that
    states its date in one was indexed undated, without a warning, outside every date-filtered search."""
    page = _page(f"<title>{HEADLINE}</title>{meta}", f"<article><h1>{HEADLINE}</h1>BODY</article>")
    assert clean_html(page).published.startswith(iso)


@pytest.mark.parametrize(("line", "iso"), [
    ("June 3, 2025", "2025-06-03"), ("Hunyo 3, 2025", "2025-06-03"), ("2025-06-03", "2025-06-03"),
    ("Published: 3 June 2025", "2025-06-03"), ("By Ana Cruz | June 3, 2025", "2025-06-03"),
    ("3 июня 2025", "2025-06-03"), ("Updated: June 3, 2025", ""), ("2025", ""),
])
def test_a_text_article_s_date_line_under_its_title_is_its_date(line: str, iso: str) -> None:
    """A plain-text article's date line was dropped as furniture ("June 3, 2025") or kept as text ("Hunyo 3,
    2025"), and the article was indexed undated, outside every date-filtered search. An update's date, or
    a year alone, is no publication date."""
    body = "\n\n".join(HTML_BODY)
    for text in (f"{HEADLINE}\n{line}\n\n{body}\n", f"{HEADLINE}\n\n{line}\n\n{body}\n"):
        assert clean_text(text).published[:10] == iso
        assert clean_markdown(f"# {HEADLINE}\n\n{line}\n\n{body}\n").published[:10] == iso
    given = clean_text(f"Title: {HEADLINE}\nDate: 2024-01-05\n\n{HEADLINE}\n{line}\n\n{body}\n")
    assert given.published.startswith("2024-01-05")  # the file's own field comes first
    assert clean_text(f"{HEADLINE}\n\n{body}\n\nMayor Cruz said it opened on June 3, 2025.\n").published == ""


def test_a_page_s_byline_date_is_read_in_any_language() -> None:
    """htmldate reads English bylines only: an Urdu page saying "Published: 10 February 2025" in Urdu, in
    an element marked as its byline, was indexed undated."""
    page = _page(f"<title>{HEADLINE}</title>", f"<article><h1>{HEADLINE}</h1><p class='byline'>نمائندہ خصوصی، "
                                                "سیالکوٹ — شائع شدہ: 10 فروری 2025</p>BODY</article>")
    assert clean_html(page).published.startswith("2025-02-10")
    updated = page.replace("class='byline'", "class='updated-date'")
    assert not clean_html(updated).published
    masthead = _page(f"<title>{HEADLINE}</title>", f"<header><span class='date'>پیر، 7 دسمبر 2026</span></header>"
                                                    f"<article><h1>{HEADLINE}</h1>BODY</article>")
    assert not clean_html(masthead).published  # the site's today, not the article's day


@pytest.mark.parametrize("masthead", [
    "<header><div class='date'>Monday, 7 December 2026</div><nav><a href='/'>Home</a></nav></header>",
    "<header><time datetime='2026-12-07'>Monday, 7 December 2026</time></header>",
    "<nav><span>7 December 2026</span> <a href='/'>Home</a></nav>",
])
def test_a_masthead_s_date_is_not_the_article_s(masthead: str) -> None:
    """htmldate took the site header's today ("Monday, 7 December 2026") for the publication date of a page
    that gives none: every article of such a site was dated the day it was ingested, and a search since
    last week found last year's story. The site's header, navigation and footer hold no article's date; a
    header holding the headline does (a blog's entry header), and so does a footer inside the article."""
    page = _page(f"<title>{HEADLINE}</title>", f"{masthead}<main><h1>{HEADLINE}</h1>BODY</main>")
    assert not clean_html(page).published
    entry_header = _page(f"<title>{HEADLINE}</title>", f"{masthead}<header class='entry-header'><h1>{HEADLINE}"
                                                       "</h1><time datetime='2025-03-14'>14 March 2025</time>"
                                                       "</header><div class='content'>BODY</div>")
    assert clean_html(entry_header).published.startswith("2025-03-14")
    article_footer = _page(f"<title>{HEADLINE}</title>", f"{masthead}<article><h1>{HEADLINE}</h1>BODY<footer>"
                                                         "<time datetime='2025-03-14'>14 March 2025</time>"
                                                         "</footer></article><footer>© 2026 Daily</footer>")
    assert clean_html(article_footer).published.startswith("2025-03-14")


def test_an_update_date_meta_tag_is_not_taken_for_the_publication_date() -> None:
    page = _page(f'<title>{HEADLINE}</title><meta name="last-updated-date" content="5 marca 2024">',
                 f"<article><h1>{HEADLINE}</h1>BODY</article>")
    assert not clean_html(page).published


def test_a_page_laid_out_in_a_table_loses_its_side_column_but_a_data_table_stays() -> None:
    """trafilatura keeps a table whole: an old page laid out in one had its "Most read" and weather column and
    the reader comments under the story indexed with it, and a comment's figure was cited as the story's.
    Unwrapped, trafilatura tells the column apart; comments under the story without any markup of their own
    are left to its heuristics (the helper's page lost them, this one keeps them)."""
    story = "".join(f"{p}<P>" for p in HTML_BODY)
    page = ("<HTML><HEAD><TITLE>Wend Courier</TITLE></HEAD><BODY><TABLE WIDTH='100%'><TR><TD WIDTH='180'>"
            "<B>Most Read</B><BR>1. Bypass delayed again<BR>2. Pub fined for noise<BR><B>Weather</B><BR>Wend: 14C</TD>"
            f"<TD><FONT SIZE='+2'><B>{HEADLINE}</B></FONT><BR>{story}<HR><SMALL>Have your say: 2 comments</SMALL><BR>"
            "<SMALL>Ron: About time!</SMALL><BR><SMALL>Bev: Only 2 farms won, the rest lost.</SMALL><BR></TD></TR></TABLE>"
            "</BODY></HTML>")
    text = clean_html(page).text
    assert all(p in text for p in HTML_BODY)
    assert not any(furniture in text for furniture in ("Most Read", "Bypass delayed", "Weather", "14C"))
    data = _page(f"<title>{HEADLINE}</title>", f"<article><h1>{HEADLINE}</h1>BODY<table><tr><td>Farms</td><td>12</td></tr>"
                                                "<tr><td>Appeals</td><td>3</td></tr></table></article>")
    assert "Farms 12" in clean_html(data).text and "Appeals 3" in clean_html(data).text


def test_a_live_blog_keeps_each_update_s_time() -> None:
    """trafilatura drops a <time> standing before a paragraph: a live blog's "16:40" power cut happened at no
    time, and "when" questions could not be answered. A single dateline stays out (next test)."""
    updates = [("22:47", "Priya Raman was declared the winner with 52,318 votes."),
               ("16:40", "A power cut hit polling station 14 at Ashgrove Primary School."),
               ("07:00", "Polls opened across Northfield's 96 polling stations.")]
    feed = "".join(f"<div class='update'><time datetime='2024-05-19T{t}:00+01:00'>{t}</time><p>{p}</p></div>"
                   for t, p in updates)
    page = _page("<title>Northfield election: live</title>", f"<main><h1>Northfield election: live</h1>{feed}</main>")
    assert _paragraphs(clean_html(page))[1:] == [f"{t} – {p}" for t, p in updates]


def test_a_short_japanese_story_keeps_its_paragraphs_and_leaves_its_dateline_out() -> None:
    """trafilatura takes under 250 characters of main text for a failure and falls back to joining the page's
    blocks: a 200-character Japanese story (~100 words) came out as headline, dateline and paragraphs in one
    block, and the quote carried the headline and the date."""
    paragraphs = ["18日午後10時42分ごろ、長野県中部を震源とする地震があり、松本市で震度5弱を観測した。",
                  "気象庁によると、震源の深さは約10キロ、地震の規模を示すマグニチュードは5.8と推定される。",
                  "松本市消防局によると、転倒などで7人がけがをした。北陸新幹線は約42分後に運転を再開した。"]
    page = ("<html lang='ja'><head><meta charset='utf-8'><title>長野県松本市で震度5弱 けが人7人｜信州ニュース</title></head>"
            "<body><nav><a>トップ</a>｜<a>社会</a></nav><article><h1>長野県松本市で震度5弱 けが人7人</h1>"
            "<time datetime='2024-04-18'>2024年4月18日 23時15分</time>" + "".join(f"<p>{p}</p>" for p in paragraphs)
            + "</article></body></html>")
    assert _paragraphs(clean_html(page)) == ["長野県松本市で震度5弱 けが人7人", *paragraphs]


def test_sentences_ended_the_devanagari_or_arabic_way_are_prose() -> None:
    """Only Latin and CJK stops ended a sentence: an Arabic article's closing question ("؟") was dropped
    as a trailing headline, and a Hindi sentence ending in a danda ("।") could be taken for the headline."""
    arabic = clean_text("افتتاح جسر جديد في الدوحة\n\nافتتحت السلطات في الدوحة يوم الاثنين جسرا جديدا يربط بين "
                        "شمال المدينة وجنوبها بعد ثلاث سنوات من أعمال البناء المتواصلة.\n\nهل سيخفف الجسر الزحام؟\n")
    assert arabic.text.endswith("هل سيخفف الجسر الزحام؟")
    hindi = clean_text("मेट्रो का किराया दस रुपये होगा।\n\nमुंबई में सोमवार को नई मेट्रो लाइन का उद्घाटन किया गया, जिससे "
                       "शहर के पूर्वी और पश्चिमी हिस्सों के बीच यात्रा का समय आधा हो जाएगा।\n")
    assert hindi.title != "मेट्रो का किराया दस रुपये होगा।"
    assert hindi.text.startswith("मेट्रो का किराया दस रुपये होगा।")


@pytest.mark.parametrize("head", ["Title:\nDate: 2024-06-05", "Title: Kelby library reopens\n\nDate: 2024-06-05",
                                  "Title: Kelby library reopens\nAuthor: Ann Lee\n\n\nDate: 2024-06-05"])
def test_a_header_block_with_an_empty_key_or_a_blank_line_is_still_metadata(head: str) -> None:
    """An empty "Title:" made "Date: 2024-06-05" the headline; a blank line between "Title:" and "Date:"
    left the date in the text and the article undated."""
    cleaned = clean_text(head + "\n\nThe Kelby library reopened on Monday after a flood, the council said.\n")
    assert cleaned.published.startswith("2024-06-05") and "Date:" not in cleaned.text
    assert cleaned.title in ("", "Kelby library reopens")


def test_a_paragraph_after_the_header_that_only_looks_like_a_field_stays_text() -> None:
    cleaned = clean_text("Title: Kelby library reopens\n\nUpdate: the toll rose to 12.\n\nThe library reopened.\n")
    assert "Update: the toll rose to 12." in cleaned.text


def test_a_share_box_heading_is_never_the_title() -> None:
    """A WordPress post's rendered content has no <title>: its share box's "Share this:" heading was taken
    for one and opened the article's text."""
    cleaned = clean_html("<p>The new ferry terminal at Kelby harbour opened on Tuesday, with room for 1,200 "
                         "passengers, harbourmaster Ian Tulloch said.</p><p>It cost £26 million.</p>"
                         "<div class='sharedaddy'><h3 class='sd-title'>Share this:</h3><ul><li><a href='#'>Twitter"
                         "</a></li></ul></div>")
    assert cleaned.title == "" and cleaned.text.startswith("The new ferry terminal")


def test_a_related_box_of_a_short_page_is_no_part_of_its_article() -> None:
    """On a short page (WordPress's rendered content) trafilatura keeps text without its links, so the
    "Related" box's headline, a link, became the article's last paragraph. A sentence around a link stays."""
    cleaned = clean_html("<p>The new ferry terminal at Kelby harbour opened on Tuesday, with room for 1,200 "
                         "passengers, harbourmaster Ian Tulloch said.</p><p>The £26 million terminal replaces a "
                         "<a href='/1970s'>1970s building</a>.</p><div id='jp-relatedposts'><h3>Related</h3><p>"
                         "<a href='#'>Harbour dredging starts</a></p></div>")
    assert "Harbour dredging starts" not in cleaned.text
    assert cleaned.text.endswith("The £26 million terminal replaces a 1970s building.")


def test_a_json_ld_block_nested_to_exhaust_the_parser_is_skipped_not_fatal() -> None:
    """A hostile upload's JSON-LD 100,000 brackets deep raised RecursionError out of the page's cleaning."""
    page = ('<html><head><script type="application/ld+json">' + "[" * 100_000 + "]" * 100_000 + "</script>"
            "<title>Kelby Gazette</title></head><body><h1>Council approves budget</h1><p>The council met on Monday "
            "and approved the budget for the coming year after a long debate.</p></body></html>")
    cleaned = clean_html(page)
    assert "approved the budget" in cleaned.text


def test_ads_and_read_also_lines_go_in_other_languages_too() -> None:
    """Only English furniture was known: "REKLAMA", "Czytaj także: <another story>" and "Baca juga: ..." were
    indexed as the article's text, and the other story's headline with them."""
    polish = clean_text("Po trzech dniach opadów rzeka wystąpiła z brzegów, a służby ewakuowały łącznie 12 500 osób "
                        "z kilku gmin powiatu kłodzkiego.\n\nREKLAMA\n\nCzytaj także: Ceny prądu w 2027 roku.\n\n"
                        "W akcji uczestniczyło ponad 2 300 strażaków oraz 600 żołnierzy, którzy budowali wały.\n")
    assert "REKLAMA" not in polish.text and "Ceny prądu" not in polish.text and "2 300 strażaków" in polish.text
    indonesian = clean_text("Banjir merendam lima kecamatan di Kabupaten Bandung sejak Kamis malam, dan 4.200 warga "
                            "mengungsi.\n\nBaca juga: Persib Bandung Tahan Imbang Persija 1-1\n\nWarga mengeluhkan "
                            "kurangnya air bersih di lokasi pengungsian sejak hari Jumat pagi.\n")
    assert "Persib" not in indonesian.text and indonesian.text.endswith("sejak hari Jumat pagi.")


def test_a_headline_with_a_dash_that_the_h1_holds_whole_is_not_cut() -> None:
    """What follows " – " in a <title> was taken for a site's name and cut, when the page's <h1> is the
    whole title: "Strike closes ports – workers demand pay rise" became "Strike closes ports", and the
    full headline was left in the text as a paragraph of its own."""
    headline = "Strike closes ports – workers demand pay rise"
    article = clean_html(_page(f"<title>{headline}</title>", f"<h1>{headline}</h1>BODY"))
    assert article.title == headline
    assert _paragraphs(article) == [headline, *HTML_BODY]


def test_a_page_of_only_menus_a_cookie_notice_and_a_footer_leaves_no_text_but_its_title() -> None:
    """trafilatura's fallbacks read the page as given: the cookie banner's "Accept" button was kept as the
    article's text, and the page was indexed."""
    page = ("<html><head><title>Daily Planet</title></head><body><nav><ul><li><a href='/'>Home</a></li>"
            "<li><a href='/world'>World</a></li></ul></nav><div class='cookie'>We use cookies to improve your "
            "experience. By continuing to browse you accept our cookie policy. <button>Accept</button></div>"
            "<footer><p>© 2024 Daily Planet Media Ltd. All rights reserved.</p></footer></body></html>")
    article = clean_html(page)
    assert _paragraphs(article) == ["Daily Planet"] and article.title_given
