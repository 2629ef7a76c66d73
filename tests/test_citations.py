"""Citation checking: markers that point nowhere or at a passage that does not back the sentence go."""

from __future__ import annotations

from rag.citations import cite, split_claims
from rag.context import Source
from rag.text import split_sentences, support_score, word_coverage
from rag.types import Hit

PASSAGES = {
    "brest.txt": "The port of Brest closed on Monday after winds reached 140 km/h, the mayor said.",
    "quotas.txt": "About 300 fishermen blocked the road to the ministry to protest against new fishing quotas.",
}


def sources() -> list[Source]:
    result = []
    for n, (name, text) in enumerate(PASSAGES.items(), start=1):
        offset = 100 * n  # the passage sits somewhere inside its article
        hit = Hit(chunk_id=f"{name}:0", doc_id=name, text=text, start=offset, end=offset + len(text), score=1.0,
                  title=name.removesuffix(".txt").title(), source_name=name)
        result.append(Source(n, hit, text, offset, offset + len(text), 1.0))
    return result


def test_correct_markers_are_kept_and_quote_the_passage() -> None:
    checked = cite("The port of Brest closed on Monday [1]. About 300 fishermen blocked the road [2].", sources())
    assert checked.text == "The port of Brest closed on Monday [1]. About 300 fishermen blocked the road [2]."
    assert [(c.n, c.source) for c in checked.citations] == [(1, "brest.txt"), (2, "quotas.txt")]
    assert checked.citations[0].quote == PASSAGES["brest.txt"]
    assert (checked.citations[0].start, checked.citations[0].end) == (100, 100 + len(PASSAGES["brest.txt"]))
    assert checked.invalid_markers == 0


def test_wrong_marker_is_moved_to_the_supporting_passage_and_renumbered() -> None:
    checked = cite("About 300 fishermen blocked the road to the ministry [1].", sources())
    assert checked.text == "About 300 fishermen blocked the road to the ministry [1]."
    assert [c.source for c in checked.citations] == ["quotas.txt"]
    assert (checked.invalid_markers, checked.invented_markers) == (1, 0)  # a real source, the wrong one


def test_invented_marker_number_is_dropped() -> None:
    checked = cite("The port of Brest closed on Monday [7].", sources())
    assert checked.text == "The port of Brest closed on Monday [1]."
    assert (checked.invalid_markers, checked.invented_markers) == (1, 1)


def test_unsupported_sentence_is_left_out() -> None:
    checked = cite("The port of Brest closed on Monday [1]. Three ships sank in Lorient [1].", sources())
    assert checked.text == "The port of Brest closed on Monday [1]."
    assert checked.supported_claims == 1 and checked.claims == 2


def test_words_of_the_question_need_no_support() -> None:
    question = "Why did the port of Brest close last week?"
    checked = cite("The port of Brest closed last week because winds reached 140 km/h.", sources(), question)
    assert checked.text.endswith("140 km/h [1].")
    # A name is never excused, even when the question says it.
    assert not cite("The port of Calais closed last week.", sources(), "Why did the port of Calais close?").citations


def test_answer_about_something_the_cited_article_never_names_is_off_topic() -> None:
    from rag.answering import on_topic

    question = "Why did the port of Calais close?"
    assert not cite("The port of Calais closed because winds reached 140 km/h.", sources(), question).citations
    checked = cite("It closed because winds reached 140 km/h.", sources(), question)
    assert checked.citations  # the sentence alone is backed by the Brest passage...
    assert not on_topic(question, checked.citations, sources())  # ...but no retrieved article names Calais
    brest = "Why did the port of Brest close?"
    assert on_topic(brest, cite("It closed because winds reached 140 km/h.", sources(), brest).citations, sources())


def test_a_word_capitalised_only_because_it_opens_the_question_is_not_a_name() -> None:
    from rag.answering import on_topic
    from rag.text import names

    question = "Apart from the mayor, who reported winds in Brest? According to whom did ferries stop?"
    assert names(question) == {"brest"}
    checked = cite("The mayor said winds reached 140 km/h in Brest.", sources(), question)
    assert on_topic(question, checked.citations, sources())  # no article need mention "Apart"
    assert "zelenski" in names("Zelensky met Trump. Apart from that, Lavrov spoke.")  # real names still count


def test_two_passages_cannot_stitch_a_date_onto_another_event() -> None:
    summit = "Zelensky said advisers would meet in Ukraine on Saturday, followed by a leaders' summit in France on January 6."
    meeting = "Trump met Zelensky in Paris, their first face-to-face discussion since the election."
    stitched = [_source(1, "summit.txt", summit), _source(2, "paris.txt", meeting)]
    question = "On what exact date did Trump and Zelensky meet in Paris?"
    assert not cite("Trump and Zelensky met in Paris on January 6.", stitched, question).citations
    # Two passages may still back one sentence together when each fact sits with its subject.
    both = cite("Trump met Zelensky in Paris, and a leaders' summit follows in France on January 6.", stitched,
                "What meetings are planned?")
    assert [c.source for c in both.citations] == ["summit.txt", "paris.txt"]


def test_an_answer_that_only_restates_the_question_is_not_an_answer() -> None:
    passage = _source(1, "summit.txt", "National security advisers of the coalition would meet in Ukraine on Saturday.")
    question = "In which Ukrainian city will the coalition's national security advisers meet?"
    assert not cite("The national security advisers will meet in Ukraine [1].", [passage], question).citations
    assert cite("They will meet on Saturday [1].", [passage], question).citations


def _source(n: int, name: str, text: str) -> Source:
    hit = Hit(chunk_id=f"{name}:0", doc_id=name, text=text, start=0, end=len(text), score=1.0,
              title=name.removesuffix(".txt").title(), source_name=name)
    return Source(n, hit, text, 0, len(text), 1.0)


def test_wrong_number_is_not_supported() -> None:
    assert support_score("Winds reached 160 km/h in Brest", PASSAGES["brest.txt"]) == 0.0
    assert support_score("Winds reached 140 km/h in Brest", PASSAGES["brest.txt"]) == 1.0


def test_wrong_name_is_not_supported() -> None:
    assert support_score("The port of Calais closed on Monday", PASSAGES["brest.txt"]) == 0.0


def test_transliteration_variants_of_a_name_match() -> None:
    assert support_score("Zelensky met Trump", "Zelenskyy met Trump in Paris.") > 0.5


def test_split_claims_keeps_markers_with_their_sentence() -> None:
    claims = split_claims('He said "no." [2] U.S. aid rose [1][3]. Done')
    assert [(c.text, c.markers) for c in claims] == [('He said "no."', (2,)), ("U.S. aid rose.", (1, 3)),
                                                    ("Done", ())]


def test_sentence_offsets_are_exact() -> None:
    text = "Mr. Trump met Mr. Zelensky in Paris. The U.S. gave $64.1 billion.\nHeadline without stop\nLast one!"
    spans = split_sentences(text)
    assert [s.text for s in spans] == ["Mr. Trump met Mr. Zelensky in Paris.", "The U.S. gave $64.1 billion.",
                                       "Headline without stop", "Last one!"]
    assert all(text[s.start:s.end] == s.text for s in spans)


def test_quote_is_the_sentence_that_backs_the_claim_when_names_are_spread_over_sentences() -> None:
    text = ("Advisers would meet in Ukraine on Saturday. Zelensky spoke on Tuesday. "
            "He met Trump at his Mar-a-Lago club in Florida days earlier.")
    checked = cite("Zelensky met Trump at his Mar-a-Lago club in Florida [1].", [_source(1, "a.txt", text)])
    assert checked.citations[0].quote == "He met Trump at his Mar-a-Lago club in Florida days earlier."


def test_names_the_question_asks_about_may_be_elsewhere_in_the_article_but_the_answers_may_not() -> None:
    passage = "Peskov said that Zelenskyy has banned contact with the Russian leadership through a special decree."
    article = f"The Kremlin spokesman, Dmitry Peskov, answered questions. {passage}"
    source = _source(1, "kremlin.txt", passage)
    question = "According to the Kremlin, what would Zelenskyy have to revoke?"
    claim = "According to the Kremlin, Zelenskyy would have to revoke a special decree banning contact [1]."
    assert not cite(claim, [source], question).citations  # the passage alone never names the Kremlin
    assert cite(claim, [source], question, articles={"kremlin.txt": article}).citations
    # The answer's own names still have to be in the quoted passage.
    invented = "According to the Kremlin, Zelenskyy would have to revoke a decree signed in Minsk [1]."
    assert not cite(invented, [source], question, articles={"kremlin.txt": article + " Minsk."}).citations


def test_excerpt_grows_towards_the_more_relevant_neighbour() -> None:
    from rag.context import build_sources

    text = ("Trump urged an immediate ceasefire and the start of negotiations to end the war, calling it madness. "
            "His remarks came after he met Zelenskyy in Paris, their first face-to-face discussion. "
            "The meeting took place at the Elysee Palace in the presence of Macron.")
    hit = Hit(chunk_id="p:0", doc_id="p", text=text, start=0, end=len(text), score=1.0, title="P", source_name="p")

    def scorer(question: str, sentences: list[str]) -> list[float]:
        return [0.2, 0.9, 0.6]  # the middle sentence is best; the Elysee one is the better neighbour

    (source,) = build_sources("Where did they meet in Paris?", [hit], scorer, budget_chars=240)
    assert source.text.startswith("His remarks") and source.text.endswith("presence of Macron.")


def test_excerpts_far_less_relevant_than_the_best_are_left_out_and_the_rest_renumbered() -> None:
    from rag.context import build_sources

    texts = ["Markets were calm on Monday.", "Talks were held in Istanbul in 2022.", "Later talks took place in Abu Dhabi."]
    hits = [Hit(chunk_id=f"h{i}", doc_id=f"d{i}", text=t, start=0, end=len(t), score=1.0, title="T",
                source_name=f"d{i}.txt") for i, t in enumerate(texts)]
    relevance = {texts[0]: 0.2, texts[1]: 0.9, texts[2]: 0.7}

    def scorer(question: str, sentences: list[str]) -> list[float]:
        return [relevance[s] for s in sentences]

    kept = build_sources("Where were talks held?", hits, scorer, margin=0.3)
    assert [(s.n, s.hit.chunk_id) for s in kept] == [(1, "h1"), (2, "h2")]  # 0.2 is 0.7 below the best
    assert len(build_sources("Where were talks held?", hits, scorer)) == 3  # no margin: every hit


def test_marker_never_lands_inside_a_quotation() -> None:
    quoted = _source(1, "q.txt", 'Putin called Trump an "intelligent and experienced" politician capable of finding "solutions."')
    checked = cite('Putin called Trump an "intelligent and experienced" politician capable of finding "solutions."', [quoted])
    assert checked.text.endswith('"solutions." [1]')


def test_word_coverage_counts_shared_content_words_without_a_name_veto() -> None:
    passage = PASSAGES["brest.txt"]
    assert word_coverage("The port of Brest closed on Monday", passage) == 1.0
    # One unknown name lowers the share; support_score would reject the whole sentence for it.
    partial = word_coverage("The port of Brest closed on Monday, Jean Dupont said", passage)
    assert 0.5 < partial < 1.0 and support_score("The port of Brest closed on Monday, Jean Dupont said",
                                                 passage) == 0.0
    assert word_coverage("Fishermen protested", passage) == 0.0
    assert word_coverage("", passage) == 1.0  # nothing claimed, nothing unsupported
