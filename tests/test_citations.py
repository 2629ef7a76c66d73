"""Citation checking: markers that point nowhere or at a passage that does not back the sentence go."""

from __future__ import annotations

from rag.citations import cite, split_claims
from rag.context import Source
from rag.text import split_sentences, support_score
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
    assert checked.invalid_markers == 1


def test_invented_marker_number_is_dropped() -> None:
    checked = cite("The port of Brest closed on Monday [7].", sources())
    assert checked.text == "The port of Brest closed on Monday [1]."
    assert checked.invalid_markers == 1


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
