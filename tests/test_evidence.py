"""The evidence step on hand-made sources: numbering, the grammar, reading the reply and its confidence,
citing the chosen sentences, the guard, and the threshold, without a model (a scripted chat client)."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from collections.abc import Iterator, Sequence

import pytest

from rag.answering import REFUSAL_TEXT, Choice, CitedQueryEngine
from rag.languages import REFUSALS
from rag.citations import MARKER, cite_choice, unsupported_facts
from rag.context import Source
from rag.evidence import (ANSWER_LINE_GRAMMAR, VERDICT_GRAMMAR, anchor, confidence_from_logprobs, evidence_grammar, in_context,
                          led_by_short, number_sentences, parse_reply, same_name_forms, short_answer_gap, short_line_confidence,
                          verdict_confidence)
from rag.generation import ChatClient
from rag.text import names
from rag.types import Answer, Hit

BREST = ("Storm closes the port of Brest",
         "The port of Brest closed on Monday. Winds reached 140 km/h, the mayor, Anne Morel, said.")
QUOTAS = ("Fishermen protest quotas",
          "About 300 fishermen blocked the road to the ministry. Their leader, Paul Grall, was arrested.")


def source(n: int, title: str, text: str, offset: int = 50) -> Source:
    hit = Hit(chunk_id=f"{title}:0", doc_id=title, text=text, start=offset, end=offset + len(text), score=1.0,
              title=title, source_name=title.replace(" ", "_") + ".txt")
    return Source(n, hit, text, offset, offset + len(text), 1.0)


def sources() -> list[Source]:
    return [source(1, *BREST), source(2, *QUOTAS)]


# --- numbering and the grammar -------------------------------------------------------------------------
def test_sentences_are_numbered_in_prompt_order_most_relevant_last_with_article_offsets() -> None:
    numbered = number_sentences(sources())
    assert [s.text for s in numbered] == ["About 300 fishermen blocked the road to the ministry.",
                                          "Their leader, Paul Grall, was arrested.",
                                          "The port of Brest closed on Monday.",
                                          "Winds reached 140 km/h, the mayor, Anne Morel, said."]
    assert [s.n for s in numbered] == [1, 2, 3, 4]
    third = numbered[2]
    assert BREST[1][third.start - 50:third.end - 50] == third.text  # offsets into the article


def test_grammar_allows_only_real_sentence_numbers_or_none() -> None:
    grammar = evidence_grammar(12)
    assert 'root ::= "none" | n' in grammar
    assert '"12" | "11"' in grammar and '"13"' not in grammar  # longest first, nothing past the last
    assert "\\[" in grammar  # the answer line cannot write its own markers
    assert '"\\nShort:" short "\\nAnswer:" answer' in grammar  # the answer in a few words comes first


# --- reading the reply ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "picks", "answer", "complete"), [
    ("4\nAnswer: Winds reached 140 km/h.", (4,), "Winds reached 140 km/h.", True),
    ("2,3\nAnswer: x", (2, 3), "x", True),
    ("none", (), "", True),
    ("3", (3,), "", False),  # still streaming: the choice may go on ("3,4")
    ("9,2\nAnswer: y", (2,), "y", True),  # 9 is no sentence of 4
    ("The port closed.", (), "The port closed.", True),  # a server without the grammar: prose at once
    ("no", (), "", False),  # may still become "none"
    ("4\nShort: 140 km/h\nAnswer: Winds reached 140 km/h.", (4,), "Winds reached 140 km/h.", True),
    ("4\nShort: 140 km", (4,), "", True),  # the short line streams: nothing of the answer yet
    ("4\nShort: 140 km/h\nAnsw", (4,), "", True),  # nor the label of the answer line
])
def test_parse_reply(text: str, picks: tuple[int, ...], answer: str, complete: bool) -> None:
    reply = parse_reply(text, 4)
    assert (reply.picks, reply.answer, reply.complete) == (picks, answer, complete)
    assert parse_reply("The port closed.", 4).chose is False


def test_the_short_line_is_read_once_it_has_ended() -> None:
    assert parse_reply("4\nShort: 140 km", 4).short is None
    assert parse_reply("4\nShort: 140 km/h\n", 4).short == "140 km/h"
    assert parse_reply("4\nAnswer: Winds reached 140 km/h.", 4).short is None  # a server that skipped it


@pytest.mark.parametrize(("short", "question", "gap"), [
    ("140 km/h", "How strong were the winds in Brest?", ""),
    ("Anne Morel", "Who is the mayor of Brest?", ""),
    ("the winds in Brest", "How strong were the winds in Brest?", "repeats"),  # says nothing new
    ("The mayor", "Who is the mayor of Brest?", "repeats"),  # the asked name is not in the passage
    ("Jean Dupont", "Who is the mayor of Brest?", "not in"),  # a name from elsewhere
    ("180 km/h", "How strong were the winds in Brest?", "not in"),
    ("2", "How many ports closed?", ""),  # spelled out in the passage: "two ports"
    ("3", "How many ports closed?", "not in"),
    (None, "How strong were the winds in Brest?", ""),  # no short line: no evidence either way
])
def test_a_short_answer_that_repeats_the_question_or_is_not_in_its_evidence_does_not_answer(
        short: str | None, question: str, gap: str) -> None:
    found = short_answer_gap(short, question, BREST[1] + " Two ports closed.")
    assert (gap in found) if gap else found == ""


def test_a_short_answer_made_of_the_questions_words_in_another_order_names_something_new() -> None:
    """A name is its words in order: "Ford Motor" is not the question's "Mary Ford ... Tom Motor"."""
    question = "Which carmaker employs both Mary Ford and her neighbour Tom Motor?"
    evidence = "Mary Ford and Tom Motor both work for Ford Motor in Detroit."
    assert short_answer_gap("Ford Motor", question, evidence) == ""
    assert "repeats" in short_answer_gap("Mary Ford", question, evidence)
    assert "repeats" in short_answer_gap("Tom Motor, Mary Ford", question, evidence)  # each part is the question's
    assert "not in" in short_answer_gap("Ford Motor", question, "Mary Ford and Tom Motor are neighbours.")
    company = [source(1, "Neighbours at work", "Mary Ford met Tom Motor in 2019. Both work for Ford Motor.")]
    numbered = number_sentences(company)
    assert anchor("Ford Motor", question, [numbered[0]], numbered) == [numbered[1]]  # the sentence that names it


def test_the_short_answer_probability_is_the_geometric_mean_of_its_own_tokens() -> None:
    line = [("4", [("4", -0.1)]), ("\n", [("\n", 0.0)]), ("Short", [("Short", 0.0)]), (":", [(":", 0.0)]),
            (" Anne", [(" Anne", math.log(0.9)), (" The", math.log(0.05))]),
            (" Morel", [(" Moreau", math.log(0.5)), (" Morel", math.log(0.4))]), ("\n", [("\n", -3.0)])]
    assert short_line_confidence(line) == pytest.approx(math.sqrt(0.9 * 0.4))  # the choice line and "\n" do not count
    forced = line[:5] + [(" Morel", [(" Moreau", math.log(0.5)), (" Martin", math.log(0.2))])] + line[6:]
    assert short_line_confidence(forced) == pytest.approx(math.sqrt(0.9 * 0.2))  # unlisted: at most the least listed
    assert short_line_confidence(line[:-1]) is None  # the line has not ended
    assert short_line_confidence([("4", [("4", -0.1)]), ("\n", [])]) is None  # no short line


def test_a_token_streamed_with_the_next_line_does_not_sink_the_short_answer() -> None:
    """llama.cpp streams "%", the newline and the grammar's "Answer" as one entry with the
    probabilities of "Answer" alone: "57%" was refused at 0.08 though the model wrote 5 and 7 surely."""
    merged = [("3", [("3", -0.1)]), ("\nShort", [("5", math.log(0.4))]), (":", [(":", 0.0)]), (" ", [(" ", 0.0)]),
              ("5", [("5", math.log(0.8)), ("6", math.log(0.1))]), ("7", [("7", math.log(0.9))]),
              ("%\nAnswer", [("Answer", math.log(0.95)), ("Third", math.log(0.01))])]
    assert short_line_confidence(merged) == pytest.approx(math.sqrt(0.8 * 0.9))  # 5 and 7
    own = merged[:6] + [(".\n", [(".\n", math.log(0.5)), ("\n", math.log(0.4))])]
    assert short_line_confidence(own) == pytest.approx((0.8 * 0.9 * 0.5) ** (1 / 3))  # its own: it counts


def test_a_character_written_in_byte_pieces_counts_at_its_piece_not_the_least_listed() -> None:
    """Korean "박" is two byte tokens; llama.cpp lists their alternatives as "�", never the character,
    so a name the model wrote at 0.99 came out at 0.01 and was refused (seen on a Korean article)."""
    line = [("1", [("1", -0.1)]), ("\nShort", [("박", -0.4)]), (":", [(":", 0.0)]),
            (" 박", [("\ufffd", math.log(0.99)), ("\ufffd", math.log(0.0001))]),
            ("형", [("형", math.log(0.98)), ("상", math.log(0.01))]), ("\nAnswer", [("Answer", -0.04)])]
    assert short_line_confidence(line) == pytest.approx(math.sqrt(0.99 * 0.98))
    english = line[:3] + [(" Park", [("\ufffd", math.log(0.3)), (" Kim", math.log(0.1))])] + line[4:]
    assert short_line_confidence(english) == pytest.approx(math.sqrt(0.1 * 0.98))  # ASCII is never in pieces


def test_alternatives_naming_the_same_thing_count_for_the_short_answer() -> None:
    """A model torn between "Emmanuel" and "Macron" is sure of who it means; one torn between
    "Macron" and "Trump" is not, though the passage names both."""
    shown = "Zelensky met Trump in Paris. The talks were hosted by French President Emmanuel Macron."
    line = [("1", [("1", 0.0)]), ("\n", [("\n", 0.0)]), ("Short", [("Short", 0.0)]), (":", [(":", 0.0)]),
            (" Mac", [(" Emmanuel", math.log(0.5)), (" Mac", math.log(0.3)), (" Trump", math.log(0.15))]),
            ("ron", [("ron", 0.0)]), ("\n", [("\n", 0.0)])]
    assert short_line_confidence(line, shown) == pytest.approx(math.sqrt(0.8))  # Emmanuel counts, Trump not
    assert short_line_confidence(line) == pytest.approx(math.sqrt(0.3))  # nothing shown: the token alone
    full = line[:4] + [(" Emmanuel", [(" Emmanuel", math.log(0.5)), (" Macron", math.log(0.3))]),
                       (" Macron", [(" Macron", 0.0)]), ("\n", [("\n", 0.0)])]
    assert short_line_confidence(full, shown) == pytest.approx(math.sqrt(0.8))  # the surname alone, too
    assert same_name_forms("Macron", shown) == {"French President Emmanuel Macron", "President Emmanuel Macron",
                                                "Emmanuel Macron", "Macron"}
    assert same_name_forms("Trump", "Zelensky Wants To Work With Trump, and Macron") == {"Trump"}  # stop words end a name
    assert same_name_forms("14 years", "Sahra is 14 years old.") == set()  # no name: nothing merges


@pytest.mark.parametrize(("answer", "short", "shown"), [
    ("The mayor is Anne Morel.", "Anne Morel", "The mayor is Anne Morel."),
    ("Winds reached 140 km/h.", "Anne Morel", "Anne Morel. Winds reached 140 km/h."),  # drifted: led by the short
    ("Six boats sank.", "6", "Six boats sank."),  # a number spelled out is said
    ("", "Anne Morel.", "Anne Morel."),
    ("The mayor spoke.", None, "The mayor spoke."),
])
def test_an_answer_line_that_leaves_out_what_the_short_answer_adds_is_led_by_it(
        answer: str, short: str | None, shown: str) -> None:
    assert led_by_short(answer, short, "Who is the mayor of Brest?") == shown


def test_a_reply_without_a_choice_line_cites_the_sentences_that_back_it() -> None:
    chat = ScriptedChat("The port of Brest closed on Monday.", [("The", -0.1)])
    answer = engine(chat).answer("When did the port of Brest close?")
    assert answer.text == "The port of Brest closed on Monday [1]." and answer.confidence is None


def test_confidence_is_any_sentence_number_against_none() -> None:
    alternatives = [("1", math.log(0.5)), ("2", math.log(0.2)), ("The", math.log(0.2)), ("none", math.log(0.1))]
    assert confidence_from_logprobs(alternatives) == pytest.approx(0.7 / 0.8)  # "The": not a reply the grammar allows
    # Two sentences stating one fact split the model's mass: together they outweigh "none".
    split = [("1", math.log(0.3)), ("2", math.log(0.3)), ("none", math.log(0.35))]
    assert confidence_from_logprobs(split) == pytest.approx(0.6 / 0.95)
    assert confidence_from_logprobs([("The", -0.1)]) is None  # neither reading listed: unknown
    assert confidence_from_logprobs([("None", -0.1), ("3", -3.0)]) < 0.1


# --- citing and the guard ------------------------------------------------------------------------------
def test_the_citation_quotes_the_chosen_sentence_exactly() -> None:
    numbered = number_sentences(sources())
    text, citations = cite_choice("Winds reached 140 km/h in Brest.", [numbered[3]], {})
    assert text == "Winds reached 140 km/h in Brest [1]."
    [citation] = citations
    assert citation.quote == "Winds reached 140 km/h, the mayor, Anne Morel, said."
    assert citation.source == "Storm_closes_the_port_of_Brest.txt"


@pytest.mark.parametrize(("written", "picked", "cited"), [
    ("About 300 fishermen blocked the road. The port of Brest closed.", [0, 2],
     "About 300 fishermen blocked the road [1]. The port of Brest closed [2]."),
    # The prompt numbers its sentences "[4] ...", so a model may cite them in its answer line: its own
    # "[4]" then pointed at nothing (the answer's citations are numbered from 1), or at another passage.
    ("Winds reached 140 km/h in Brest [4]. About 300 fishermen blocked the road [1][9].", [3, 0],
     "Winds reached 140 km/h in Brest [1]. About 300 fishermen blocked the road [2]."),
], ids=["its own sentences", "markers the model wrote itself are replaced"])
def test_each_sentence_cites_the_chosen_sentences_it_rests_on(written: str, picked: list[int], cited: str) -> None:
    numbered = number_sentences(sources())
    text, citations = cite_choice(written, [numbered[i] for i in picked], {})
    assert text == cited
    assert [c.quote for c in citations] == [numbered[i].text for i in picked]


def test_a_headline_cited_beside_a_sentence_ends_before_it() -> None:
    # The extractive answerer writes its chosen sentences a line each; a headline has no full stop, and
    # joined with the next sentence it read as one: "Storm closes the port of Brest [1] The port...".
    headline = source(1, BREST[0], BREST[0] + "\n" + BREST[1], offset=0)
    numbered = number_sentences([headline])
    picks = [numbered[0], numbered[2]]
    text, _ = cite_choice("\n".join(s.text for s in picks), picks, {})
    assert text == "Storm closes the port of Brest [1]. Winds reached 140 km/h, the mayor, Anne Morel, said [2]."
    # A headline and a sentence sharing its words: each cited both ("... of Brest [1][2]. The port ... [1][2]"),
    # so each pointed at a quote that does not state it
    sharing = [numbered[0], numbered[1]]
    text, _ = cite_choice("\n".join(s.text for s in sharing), sharing, {})
    assert text == "Storm closes the port of Brest [1]. The port of Brest closed on Monday [2]."
    quoted, _ = cite_choice('The mayor said: "It is closed."', numbered[1:2], {})
    assert quoted == 'The mayor said: "It is closed." [1]'  # never inside someone's words


def test_a_number_or_name_the_evidence_does_not_hold_is_left_out() -> None:
    evidence = BREST[1]
    assert unsupported_facts("Winds reached 160 km/h.", evidence) == ["160"]
    assert unsupported_facts("Jean Dupont said winds reached 140 km/h.", evidence) == ["dupont", "jean"]
    assert unsupported_facts("Anne Morel said winds reached 140 km/h.", evidence) == []
    numbered = number_sentences(sources())
    text, citations = cite_choice("Winds reached 140 km/h. Three ships sank in Lorient.", [numbered[3]], {})
    assert text == "Winds reached 140 km/h [1]." and len(citations) == 1


def test_a_number_the_quote_lacks_cites_the_shown_sentence_that_holds_it() -> None:
    # The guard finds 140 in the chosen sentence's excerpt, so the answer stood, citing a quote without it.
    numbered = number_sentences(sources())
    text, citations = cite_choice("The port of Brest closed on Monday as winds reached 140 km/h.", [numbered[2]], {},
                                  numbered)
    assert text == "The port of Brest closed on Monday as winds reached 140 km/h [1][2]."
    assert [c.quote for c in citations] == ["The port of Brest closed on Monday.",
                                            "Winds reached 140 km/h, the mayor, Anne Morel, said."]


def test_a_later_sentence_that_no_shown_sentence_holds_is_left_out() -> None:
    # No name, no number: the guard above let it through, cited [1], though nothing says it.
    numbered = number_sentences(sources())
    written = "The port of Brest closed on Monday. The mayor shook hands with the fishermen and smiled."
    text, citations = cite_choice(written, [numbered[2]], {}, numbered, question="When did the port close?")
    assert text == "The port of Brest closed on Monday [1]." and len(citations) == 1
    # The first sentence carries the short answer the probability decided: its rewording stays.
    text, _ = cite_choice("Brest's harbour shut on Monday. The mayor smiled.", [numbered[2]], {}, numbered)
    assert text == "Brest's harbour shut on Monday [1]."


@pytest.mark.parametrize(("later", "quotes"), [
    ("Their leader was arrested.", ["Their leader, Paul Grall, was arrested."]),
    ("Fishermen blocked the road and their leader was arrested.",
     ["About 300 fishermen blocked the road to the ministry.", "Their leader, Paul Grall, was arrested."]),
], ids=["one sentence holds it", "two sentences hold it together"])
def test_a_later_sentence_cites_the_shown_sentences_that_hold_its_words(later: str, quotes: list[str]) -> None:
    # It cited the chosen sentence about the port, whose quote says nothing of an arrest.
    numbered = number_sentences(sources())
    text, citations = cite_choice(f"The port of Brest closed on Monday. {later}", [numbered[2]], {}, numbered)
    assert [c.quote for c in citations] == ["The port of Brest closed on Monday.", *quotes]
    assert text.endswith("".join(f"[{n}]" for n in range(2, len(quotes) + 2)) + ".")


def test_a_later_sentence_reads_the_question_as_held_and_unspaced_scripts_unread() -> None:
    numbered = number_sentences(sources())
    asked = "Did the ministry comment on the quotas when the port of Brest closed?"
    text, _ = cite_choice("The port of Brest closed on Monday. The ministry commented on the quotas.",
                          [numbered[2]], {}, numbered, question=asked)
    assert text.endswith("The ministry commented on the quotas [1].")  # the asker's own words: not the articles' to hold
    text, _ = cite_choice("The port of Brest closed on Monday. The ministry denied the quotas.",
                          [numbered[2]], {}, numbered, question=asked)
    assert text == "The port of Brest closed on Monday [1]."  # "denied" is the answer's: nothing shown holds it
    port = number_sentences([source(1, "布雷斯特港关闭", "布雷斯特港周一关闭。市长说风速达到每小时140公里。")])
    text, _ = cite_choice("港口周一关闭。渔民很高兴。", port[:1], {}, port)
    assert text == "港口周一关闭[1]。渔民很高兴[1]。"  # character pairs would refuse any rewording: not read


def test_a_word_that_only_opens_a_sentence_is_no_name_but_a_subject_is() -> None:
    assert names("Apart from the mayor, who spoke in Brest?") == {"brest"}
    assert names("Lavrov accused Ukraine.", openers=True) == {"lavrov", "ukrain"}
    assert names("Erdoğan met Зеленський in Ankara.", openers=True) >= {"erdoğan", "ankara"}


# --- the engine: threshold and refusal with a scripted model -------------------------------------------
class ScriptedChat(ChatClient):
    """A chat client that replays one reply with the given first-token alternatives (no server)."""

    def __init__(self, reply: str, first_token: list[tuple[str, float]], p_later: float = 1.0) -> None:
        super().__init__("scripted", "scripted", "http://127.0.0.1:9/v1", "unused", timeout=1)
        self.reply, self.first_token, self.closed = reply, first_token, False
        self.later = math.log(p_later)  # every later token's probability

    def stream(self, messages, max_tokens, temperature=0.0, usage=None, stop=None, grammar=None,  # type: ignore[no-untyped-def]
               top_logprobs=0) -> Iterator[str]:
        self.grammar = grammar
        reply = self.reply
        if messages[-1]["role"] == "assistant":  # like llama.cpp: the reply continues the assistant's turn
            reply = reply.removeprefix(messages[-1]["content"])
        try:
            for i, piece in enumerate(reply.split(" ")):
                if usage is not None:
                    usage.tokens.append((piece, self.first_token if i == 0 else [(piece, self.later)]))
                    usage.prompt_tokens = 100
                yield piece if i == 0 else " " + piece
        finally:
            self.closed = True


def engine(chat: ScriptedChat, min_confidence: float = 0.5) -> CitedQueryEngine:
    hits = [s.hit for s in sources()]
    return CitedQueryEngine(retrieve_hits=lambda q: hits, scorer=lambda q, ss: [1.0] * len(ss), chat=chat,
                            min_confidence=min_confidence,
                            article_texts=lambda ids: {BREST[0]: BREST[1], QUOTAS[0]: QUOTAS[1]})


def test_a_confident_pick_answers_with_its_sentence_cited_and_confidence() -> None:
    chat = ScriptedChat("4\nAnswer: Winds reached 140 km/h.", [("4", math.log(0.9)), ("none", math.log(0.1))])
    answer = engine(chat).answer("How strong were the winds in Brest?")
    assert not answer.refused and answer.text == "Winds reached 140 km/h [1]."
    assert answer.confidence == pytest.approx(0.9)
    assert {int(n) for n in MARKER.findall(answer.text)} == {c.n for c in answer.citations} == {1}
    assert chat.grammar == evidence_grammar(4)


def test_none_is_a_refusal_and_an_unsure_pick_is_refused_at_the_threshold() -> None:
    none = engine(ScriptedChat("none", [("none", math.log(0.8)), ("1", math.log(0.2))])).answer("Who won?")
    assert none.refused and none.text == REFUSAL_TEXT and none.confidence == pytest.approx(0.2)
    unsure = ScriptedChat("4\nAnswer: Winds reached 140 km/h.", [("4", math.log(0.4)), ("none", math.log(0.6))])
    answer = engine(unsure, min_confidence=0.5).answer("How strong were the winds in Brest?")
    assert answer.refused and answer.confidence == pytest.approx(0.4)
    assert unsure.closed  # generation stopped at the choice, not after a whole answer nobody sees


def test_a_refusal_is_written_in_the_askers_language() -> None:
    """The refusal is the one reply the model does not write: it must not switch to English."""
    none = ScriptedChat("none", [("none", math.log(0.8)), ("1", math.log(0.2))])
    answer = engine(none).answer("Wie viele Fischer wurden im Hafen von Brest festgenommen?")
    assert answer.refused and answer.text == REFUSALS["de"]
    kept = ScriptedChat("4\nAnswer: Winds reached 140 km/h.", [("4", math.log(0.4)), ("none", math.log(0.6))])
    assert not engine(kept, min_confidence=0.3).answer("How strong were the winds in Brest?").refused


def test_a_name_present_but_the_relation_wrong_is_refused_when_the_question_names_someone_else() -> None:
    # The Quotas article names Paul Grall as arrested; asked who arrested Anne Morel, a model that picks
    # that sentence states a relation the article does not: the question's name is not in its article.
    chat = ScriptedChat("2\nAnswer: Paul Grall was arrested.", [("2", math.log(0.9)), ("none", math.log(0.1))])
    answer = engine(chat).answer("When was Anne Morel arrested?")
    assert answer.refused, answer.text


def test_an_answer_inventing_a_number_is_refused_not_passed_on() -> None:
    chat = ScriptedChat("4\nAnswer: Winds reached 180 km/h.", [("4", math.log(0.9)), ("none", math.log(0.1))])
    answer = engine(chat).answer("How strong were the winds in Brest?")
    assert answer.refused and not answer.citations


def test_the_second_look_and_the_citation_check_read_the_articles_fetched_once() -> None:
    # Each fetch is a round trip to Chroma (a server, when shared): one per answer is enough.
    chat = ScriptedChat("4\nShort: 140 km/h\nAnswer: Winds reached 140 km/h.",
                        [("4", math.log(0.9)), ("none", math.log(0.1))])
    chat.takes_grammar = True  # a server that honours the verdict grammar: the second look runs
    fetched: list[list[str]] = []
    answering = engine(chat)
    answering.min_verification = 0.5
    answering.article_texts = lambda ids: fetched.append(list(ids)) or {BREST[0]: BREST[1], QUOTAS[0]: QUOTAS[1]}
    answer = answering.answer("How strong were the winds in Brest?")
    assert answer.text == "Winds reached 140 km/h [1]." and answer.verification == 1.0
    assert sorted(map(sorted, fetched)) == [sorted([QUOTAS[0], BREST[0]])]  # one fetch: excerpts, look and check


def test_a_none_above_the_threshold_is_asked_again_without_none() -> None:
    # The threshold decides, not the greedy reply: P(a number) 0.6 >= 0.5, so "none" is not the answer.
    chat = ScriptedChat("none", [("none", math.log(0.4)), ("4", math.log(0.6))])
    answer = engine(chat, min_confidence=0.5).answer("How strong were the winds in Brest?")
    assert chat.grammar == evidence_grammar(4, allow_none=False)  # the second request could not say none
    assert answer.refused  # this scripted server ignores grammars and said "none" again: no loop, a refusal


def test_a_short_answer_that_does_not_answer_is_a_refusal_and_nothing_of_it_is_streamed() -> None:
    reply = "4\nShort: The mayor\nAnswer: The mayor of Brest spoke about the winds."
    chat = ScriptedChat(reply, [("4", math.log(0.9)), ("none", math.log(0.1))])
    streamed = list(engine(chat).stream("Who is the mayor of Brest?"))
    answer = streamed[-1]
    assert answer.refused and streamed[:-1] == [] and chat.closed
    assert answer.short == "The mayor" and "repeats" in answer.short_gap
    kept = engine(ScriptedChat(reply, [("4", math.log(0.9)), ("none", math.log(0.1))]))
    kept.check_short_answer = False  # off (the tuning run): answered, and the gap still recorded
    answer = kept.answer("Who is the mayor of Brest?")
    assert not answer.refused and "repeats" in answer.short_gap
    named = ScriptedChat("4\nShort: Anne Morel\nAnswer: The mayor is Anne Morel.",
                         [("4", math.log(0.9)), ("none", math.log(0.1))])
    answer = engine(named).answer("Who is the mayor of Brest?")
    assert not answer.refused and answer.short == "Anne Morel" and answer.short_gap == ""


def test_the_citation_moves_to_the_shown_sentence_that_holds_the_short_answer() -> None:
    # The choice line names the neighbour (3: "The port of Brest closed"); the answer's words are in 4.
    chat = ScriptedChat("3\nShort: Anne Morel\nAnswer: The mayor is Anne Morel.",
                        [("3", math.log(0.9)), ("none", math.log(0.1))])
    answer = engine(chat).answer("Who is the mayor of Brest?")
    assert not answer.refused and answer.citations[0].quote == "Winds reached 140 km/h, the mayor, Anne Morel, said."
    numbered = number_sentences(sources())
    assert [s.n for s in anchor("Anne Morel", "Who is the mayor?", [numbered[2]], numbered)] == [4]
    assert [s.n for s in anchor("Brest", "Which port closed?", [numbered[2]], numbered)] == [3]  # the pick wins ties
    assert anchor("the mayor", "Who is the mayor?", [numbered[2]], numbered) == []
    assert anchor("Jean Dupont", "Who is the mayor?", [numbered[2]], numbered) == []


def test_the_sentence_holding_the_answer_is_quoted_not_one_whose_headline_holds_it() -> None:
    """A headline that states the answer made every sentence of its article hold it: the model's loose
    pick was kept, and "34 people died [1]" quoted a sentence about 120 passengers."""
    ferry = source(1, "Ferry capsizes on Lake Victoria, killing 34",
                   "The vessel was carrying about 120 passengers from Kiyindi landing site. A passenger ferry "
                   "capsized on Friday near Buvuma Island, killing 34 people, police said.")
    numbered = number_sentences([ferry])
    anchored = anchor("34 people", "How many people died when the ferry capsized?", [numbered[0]], numbered)
    assert [s.text for s in anchored] == [numbered[1].text]
    # Held by the headline alone (no sentence says it), the model's own pick still stands.
    assert anchor("Lake Victoria", "Where did the ferry capsize?", [numbered[0]], numbered) == [numbered[0]]


def test_the_citation_moves_to_the_sentence_holding_the_answer_in_an_article_naming_what_was_asked() -> None:
    # Both articles hold "Emmanuel Macron"; only the second says "French", which the question asks about.
    palace = source(1, "Talks at the Elysee", "The meeting took place at Elysee Palace in the presence of the "
                                              "President of France, Emmanuel Macron.")
    visit = source(2, "Trump in Paris", "Trump met Zelensky in Paris, alongside host French President "
                                        "Emmanuel Macron.")
    numbered = number_sentences([palace, visit])
    picked = [s for s in numbered if s.source is palace]
    question = "Which French leader hosted Trump and Zelensky in Paris?"
    assert [s.source for s in anchor("Emmanuel Macron", question, picked, numbered)] == [visit]
    assert [s.source for s in anchor("Emmanuel Macron", "Who hosted the talks?", picked, numbered)] == [palace]  # else the pick


def test_a_drifting_answer_line_is_shown_after_the_short_answer_both_cited() -> None:
    chat = ScriptedChat("4\nShort: Anne Morel\nAnswer: Winds reached 140 km/h.",
                        [("4", math.log(0.9)), ("none", math.log(0.1))])
    answer = engine(chat).answer("Who is the mayor of Brest?")
    assert answer.text == "Anne Morel [1]. Winds reached 140 km/h [1]."
    assert answer.short_confidence == pytest.approx(1.0)  # every scripted token after the first is certain


def test_a_short_answer_written_unsurely_is_refused_before_anything_is_streamed() -> None:
    reply = "4\nShort: Anne Morel\nAnswer: The mayor is Anne Morel."
    guessing = ScriptedChat(reply, [("4", math.log(0.9)), ("none", math.log(0.1))], p_later=0.3)
    strict = engine(guessing).model_copy(update={"min_short_confidence": 0.5})
    streamed = list(strict.stream("Who is the mayor of Brest?"))
    assert streamed[:-1] == [] and streamed[-1].refused and streamed[-1].short_confidence == pytest.approx(0.3)
    sure = ScriptedChat(reply, [("4", math.log(0.9)), ("none", math.log(0.1))], p_later=0.9)
    answer = engine(sure).model_copy(update={"min_short_confidence": 0.5}).answer("Who is the mayor of Brest?")
    assert not answer.refused and answer.text == "The mayor is Anne Morel [1]."


def test_an_answer_that_only_restates_the_question_shows_the_chosen_sentence() -> None:
    chat = ScriptedChat("4\nAnswer: The winds in Brest were strong.", [("4", math.log(0.9)), ("none", math.log(0.1))])
    answer = engine(chat).answer("How strong were the winds in Brest?")
    assert answer.text == "Winds reached 140 km/h, the mayor, Anne Morel, said [1]."


def test_an_answer_writing_back_the_questions_premise_shows_the_chosen_sentence_instead() -> None:
    # The Brest article never says "2024": the question does. The guard cannot pass the answer as
    # written, yet it invented nothing: the evidence is shown, led by the short answer.
    question = "How strong were the winds in Brest during the 2024 storm?"
    reply = "4\nShort: 140 km/h\nAnswer: Winds in Brest reached 140 km/h during the 2024 storm."
    answer = engine(ScriptedChat(reply, [("4", math.log(0.9)), ("none", math.log(0.1))])).answer(question)
    assert not answer.refused and answer.text == "Winds reached 140 km/h, the mayor, Anne Morel, said [1]."
    # A fact of the answer's own that its evidence lacks is still a refusal, premise or not.
    invented = "4\nShort: 140 km/h\nAnswer: Winds reached 140 km/h during the 2023 storm."
    answer = engine(ScriptedChat(invented, [("4", math.log(0.9)), ("none", math.log(0.1))])).answer(question)
    assert answer.refused and not answer.citations


def test_an_empty_answer_line_after_a_checked_short_answer_shows_the_evidence_led_by_it() -> None:
    # The grammar lets the answer line be a lone space; a small model asked in German wrote just that.
    reply = "4\nShort: Anne Morel\nAnswer: "
    answer = engine(ScriptedChat(reply, [("4", math.log(0.9)), ("none", math.log(0.1))])).answer("Who is the mayor of Brest?")
    assert not answer.refused and answer.text == "Winds reached 140 km/h, the mayor, Anne Morel, said [1]."
    # Without a short answer there is nothing checked to show: a refusal.
    bare = engine(ScriptedChat("4\nAnswer: ", [("4", math.log(0.9)), ("none", math.log(0.1))])).answer("Who is the mayor of Brest?")
    assert bare.refused and not bare.citations


def test_an_answer_line_drifting_out_of_the_askers_script_shows_the_evidence_in_it() -> None:
    article = ("부산 신공항 착공", "국토교통부는 신공항을 2029년 12월에 개항할 계획이라고 밝혔다. 활주로는 하나다.")
    korean = source(1, *article)
    reply = "2\nShort: 2029년 12월\nAnswer: The ministry plans to open the new airport in 2029."
    chat = ScriptedChat(reply, [("2", math.log(0.9)), ("none", math.log(0.1))])
    asked_in_korean = CitedQueryEngine(retrieve_hits=lambda q: [korean.hit], scorer=lambda q, ss: [1.0] * len(ss),
                                       chat=chat, min_confidence=0.5, article_texts=lambda ids: {article[0]: article[1]})
    answer = asked_in_korean.answer("신공항은 언제 개항할 계획인가?")
    assert not answer.refused and answer.text == "국토교통부는 신공항을 2029년 12월에 개항할 계획이라고 밝혔다 [1]."
    # Asked in English about the same article, an English answer line is what the asker wants.
    chat = ScriptedChat(reply, [("2", math.log(0.9)), ("none", math.log(0.1))])
    english = asked_in_korean.model_copy(update={"chat": chat}).answer("When will the new airport open?")
    assert "The ministry plans to open the new airport in 2029 [1]." in english.text


def test_an_answer_line_drifting_into_english_within_the_askers_script_shows_the_evidence() -> None:
    """Same script, other language: asked in Italian about an Italian article, an English answer line
    (the script check cannot see it) is replaced by the article's sentence; an Italian one is kept."""
    article = ("Riapre il museo di Palazzo Vescovi",
               "Il restauro degli affreschi è stato coordinato dalla restauratrice Giulia Bertolini. "
               "Il museo riaprirà sabato prossimo.")
    italian = source(1, *article)

    def asked(answer_line: str) -> Answer:
        reply = f"1\nShort: Giulia Bertolini\nAnswer: {answer_line}"
        chat = ScriptedChat(reply, [("1", math.log(0.9)), ("none", math.log(0.1))])
        engine = CitedQueryEngine(retrieve_hits=lambda q: [italian.hit], scorer=lambda q, ss: [1.0] * len(ss),
                                  chat=chat, min_confidence=0.5, article_texts=lambda ids: {article[0]: article[1]})
        return engine.answer("Chi ha coordinato il restauro degli affreschi del museo?")

    drifted = asked("Giulia Bertolini was the restorer who coordinated the restoration of the frescoes.")
    assert not drifted.refused
    assert drifted.text == "Il restauro degli affreschi è stato coordinato dalla restauratrice Giulia Bertolini [1]."
    kept = asked("Il restauro degli affreschi è stato coordinato da Giulia Bertolini.")
    assert kept.text == "Il restauro degli affreschi è stato coordinato da Giulia Bertolini [1]."


# --- the second look -------------------------------------------------------------------------------------
class ScriptedTurns(ChatClient):
    """A llama.cpp-like client replaying one scripted reply per request: the choice, the verdict, the answer."""

    def __init__(self, *turns: tuple[str, list[tuple[str, float]]]) -> None:
        super().__init__("scripted", "scripted", "http://127.0.0.1:9/v1", "unused", timeout=1, takes_grammar=True)
        self.turns, self.requests = list(turns), []  # type: ignore[var-annotated]

    def stream(self, messages, max_tokens, temperature=0.0, usage=None, stop=None, grammar=None,  # type: ignore[no-untyped-def]
               top_logprobs=0) -> Iterator[str]:
        self.requests.append({"messages": messages, "grammar": grammar, "finished": False})
        reply, first_token = self.turns.pop(0)
        for i, piece in enumerate(reply.split(" ")):
            if usage is not None:
                usage.tokens.append((piece, first_token if i == 0 else [(piece, 0.0)]))
            yield piece if i == 0 else " " + piece
        self.requests[-1]["finished"] = True


def second_look(chat: ScriptedTurns, min_verification: float) -> CitedQueryEngine:
    return engine(chat, min_confidence=0.5).model_copy(update={"min_verification": min_verification})


def test_a_pick_the_second_look_doubts_is_refused_before_any_answer_is_written() -> None:
    chat = ScriptedTurns(("4\nShort: Anne Morel\nAnswer: The mayor was Anne Morel.", [("4", math.log(0.9)), ("none", math.log(0.1))]),
                         ("no", [("no", math.log(0.8)), ("yes", math.log(0.2))]))
    streamed = list(second_look(chat, 0.5).stream("Who was the mayor of Brest in 1990?"))
    answer = streamed[-1]
    assert answer.refused and answer.text == REFUSAL_TEXT and streamed[:-1] == []
    assert answer.confidence == pytest.approx(0.9) and answer.verification == pytest.approx(0.2)
    assert len(chat.requests) == 2 and not chat.requests[0]["finished"]  # stopped before the answer line
    verdict = chat.requests[1]
    assert verdict["grammar"] == VERDICT_GRAMMAR
    shown = verdict["messages"][-1]["content"]  # the chosen sentence alone, not the other candidates
    assert "Anne Morel" in shown and "Paul Grall" not in shown and "Who was the mayor of Brest in 1990?" in shown


def test_a_pick_the_second_look_doubts_is_refused_even_when_the_answer_line_would_be_shown() -> None:
    # The refusal rests on the verdict itself, not on the answer line being left unwritten.
    chat = ScriptedTurns(("4\nShort: Anne Morel\nAnswer: The mayor was Anne Morel.", [("4", math.log(0.9)), ("none", math.log(0.1))]),
                         ("no", [("no", math.log(0.8)), ("yes", math.log(0.2))]))
    doubted = second_look(chat, 0.5)
    choice = Choice(picks=number_sentences(sources())[3:], confidence=0.9, text="The mayor was Anne Morel.",
                    short="Anne Morel", verification=0.2)
    assert doubted.refuses(choice) and not doubted.refuses(replace(choice, verification=0.7))


def test_a_pick_the_second_look_confirms_is_written_after_that_choice_and_cited() -> None:
    chat = ScriptedTurns(("4\nShort: 140 km/h\nAnswer: Winds", [("4", math.log(0.9)), ("none", math.log(0.1))]),
                         ("yes", [("yes", math.log(0.9)), ("no", math.log(0.1))]),
                         (" Winds reached 140 km/h.", [("Winds", 0.0)]))
    answer = second_look(chat, 0.5).answer("How strong were the winds in Brest?")
    assert not answer.refused and answer.text == "Winds reached 140 km/h [1]." and answer.short == "140 km/h"
    assert answer.verification == pytest.approx(0.9)
    written = chat.requests[2]  # choice and short cannot change: they are the start of the assistant's turn
    assert written["messages"][-1] == {"role": "assistant", "content": "4\nShort: 140 km/h\nAnswer:"}
    assert written["messages"][:-1] == chat.requests[0]["messages"] and written["grammar"] == ANSWER_LINE_GRAMMAR


def _overlap(question: str, sentences: Sequence[str]) -> list[float]:
    words = set(question.lower().rstrip("?").split())
    return [float(len(words & set(s.lower().rstrip(".").split()))) for s in sentences]


def yes_no(verdict: str, look: float) -> tuple[CitedQueryEngine, ScriptedTurns]:
    """The model answers a yes/no question with ``verdict``, having picked loosely (sentence 4, the winds),
    and its second look says yes with probability ``look``."""
    chat = ScriptedTurns((f"4\nShort: {verdict}\nAnswer: {verdict}.", [("4", math.log(0.9)), ("none", math.log(0.1))]),
                         ("yes", [("yes", math.log(look)), ("no", math.log(1 - look))]))
    return second_look(chat, 0.5).model_copy(update={"scorer": _overlap}), chat


def test_a_yes_is_given_with_the_sentence_closest_to_the_question_when_the_second_look_confirms_it() -> None:
    """A verdict is no word of any sentence: every yes/no question was refused, although answered."""
    confirmed, chat = yes_no("Yes", 0.95)
    answer = confirmed.answer("Did the port of Brest close on Monday?")
    assert not answer.refused and answer.text == "Yes. The port of Brest closed on Monday [1]."
    assert answer.citations[0].quote == "The port of Brest closed on Monday."  # not the model's loose pick
    assert answer.answer_probability == pytest.approx(0.95)  # the confidence it was given
    assert "The port of Brest closed on Monday." in chat.requests[1]["messages"][-1]["content"]  # what the look read
    assert len(chat.requests) == 2  # nothing is written after the look: the sentence is the answer
    doubted, _ = yes_no("Yes", 0.7)  # below min_confirmation (0.9)
    assert doubted.answer("Did the port of Brest close on Monday?").refused


def test_a_no_is_a_refusal_the_articles_saying_not_and_not_saying_look_alike_to_a_small_model() -> None:
    engine_, chat = yes_no("No", 0.95)
    answer = engine_.answer("Did the port of Brest close on Tuesday?")
    assert answer.refused and len(chat.requests) == 1  # refused at the short line: no second look


class SlowVerdict(ScriptedTurns):
    """The second look takes ``seconds``, as its own prompt does on a CPU (2-3 s here)."""

    def __init__(self, seconds: float, *turns: tuple[str, list[tuple[str, float]]]) -> None:
        super().__init__(*turns)
        self.seconds = seconds

    def stream(self, messages, max_tokens, temperature=0.0, usage=None, stop=None, grammar=None,  # type: ignore[no-untyped-def]
               top_logprobs=0) -> Iterator[str]:
        if grammar == VERDICT_GRAMMAR:
            time.sleep(self.seconds)
        yield from super().stream(messages, max_tokens, temperature, usage, stop, grammar, top_logprobs)


def test_the_first_token_a_user_is_told_of_is_the_first_answer_word_after_the_second_look() -> None:
    """The UI and ``rag ask --json`` show ``timings``: the first token is when the answer began to show,
    which the choice line and the second look come before (until 2026-12-05 it was the choice line's
    first token, seconds too soon on a CPU)."""
    chat = SlowVerdict(0.2, ("4\nShort: 140 km/h\nAnswer: Winds", [("4", math.log(0.9)), ("none", math.log(0.1))]),
                       ("yes", [("yes", math.log(0.9)), ("no", math.log(0.1))]),
                       (" Winds reached 140 km/h.", [("Winds", 0.0)]))
    answer = second_look(chat, 0.5).answer("How strong were the winds in Brest?")
    assert not answer.refused
    timings = answer.timings
    assert timings["second_look"] >= 0.2
    assert timings["retrieve"] + timings["second_look"] <= timings["first_token"] <= timings["total"]


def test_a_refusal_shows_no_first_token_and_says_how_long_its_second_look_took() -> None:
    chat = SlowVerdict(0.1, ("4\nShort: Anne Morel\nAnswer: The mayor was Anne Morel.", [("4", math.log(0.9)), ("none", math.log(0.1))]),
                       ("no", [("no", math.log(0.8)), ("yes", math.log(0.2))]))
    answer = second_look(chat, 0.5).answer("Who was the mayor of Brest in 1990?")
    assert answer.refused and "first_token" not in answer.timings
    assert 0.1 <= answer.timings["second_look"] <= answer.timings["total"]


def test_the_second_look_reads_each_pick_with_its_headline_and_neighbour_sentences() -> None:
    """ "The meeting took place at Elysee Palace" names no one: the sentence before it does."""
    article = ("Leaders gathered in Paris on Monday. Macron and Zelensky met for two hours. The meeting took "
               "place at Elysee Palace. Reporters waited outside. Talks resume in March.")
    summit = source(1, "Paris summit", article, offset=0)
    sentences = number_sentences([summit, source(2, *QUOTAS, offset=0)])
    palace = next(s for s in sentences if s.text.startswith("The meeting"))
    shown = in_context([palace], {"Paris summit": article})
    assert shown == ("Paris summit: Macron and Zelensky met for two hours. The meeting took place at Elysee "
                     "Palace. Reporters waited outside.")
    assert in_context([palace], {}) == "Paris summit: The meeting took place at Elysee Palace."  # no stored text
    first = next(s for s in sentences if s.text.startswith("Leaders"))
    assert in_context([first, palace], {"Paris summit": article}, width=0) == \
        "Paris summit: Leaders gathered in Paris on Monday. ... Paris summit: The meeting took place at Elysee Palace."


def test_the_second_look_reads_a_bounded_window_however_long_the_article_s_sentence() -> None:
    """A 38,000-character list of share prices, one sentence, made the second look's prompt 11,861 tokens:
    beyond the model's context, so every question reading that article failed."""
    prices = ", ".join(f"Holding {n} up {n % 9}.{n % 7} percent" for n in range(1500))
    article = f"Markets closed higher. Shares rose on Friday: {prices}. Trading resumes on Monday."
    at = article.index("Holding 700 up")
    chunk = article[at - 500:at + 500]
    numbered = number_sentences([source(1, "Market close", chunk, offset=at - 500)])
    pick = next(s for s in numbered if "Holding 700 up" in s.text)
    shown = in_context([pick], {"Market close": article})
    assert len(pick.text) + 600 * 2 <= len(shown) <= len(pick.text) + 600 * 2 + 40  # + headline, ellipses
    assert pick.text in shown and shown.startswith("Market close: …") and shown.endswith("…")
    short = "Markets closed higher. Shares rose on Friday: Holding 1 up 1.1 percent. Trading resumes on Monday."
    (rose,) = [s for s in number_sentences([source(1, "Market close", short, offset=0)]) if "rose" in s.text]
    assert in_context([rose], {"Market close": short}) == f"Market close: {short}"  # ordinary windows whole


def test_the_verdict_is_yes_against_no() -> None:
    assert verdict_confidence([("yes", math.log(0.6)), ("The", math.log(0.3)), ("no", math.log(0.1))]) == \
        pytest.approx(0.6 / 0.7)
    assert verdict_confidence([("The", 0.0)]) is None


def test_the_extractive_answer_quotes_a_body_sentence_rather_than_the_headline() -> None:
    """A headline names the story in the question's words and states no detail: "What caused the fire?"
    was answered "Fire damages historic Greystone Library [1]". A feed item titled by its own first
    sentence has no headline line, so that sentence stays a candidate."""
    from rag.evidence import is_headline
    from rag.extractive import choose_sentences
    from rag.text import word_coverage

    def overlap(question: str, texts: list[str]) -> list[float]:  # the scorer's keyword half, alone
        return [word_coverage(question, text) for text in texts]

    titled = "Fire damages historic Greystone Library\nA fire broke out in the east wing. Faulty wiring caused the fire."
    article = source(1, "Fire damages historic Greystone Library", titled, offset=0)
    headline, *body = number_sentences([article])
    assert is_headline(headline) and not any(is_headline(s) for s in body)
    picks, _ = choose_sentences("What caused the fire at the Greystone Library?", [headline, *body], overlap)
    assert headline not in picks and any("Faulty wiring" in s.text for s in picks)
    assert choose_sentences("Greystone Library fire", [headline], overlap)[0] == [headline]  # nothing else: kept

    lead = "Faulty wiring caused the fire. The library reopens in May."
    first, _ = number_sentences([source(1, "Faulty wiring caused the fire.", lead, offset=0)])
    assert not is_headline(first)  # titled by its first sentence: a body sentence all the same


def test_the_extractive_answer_quotes_a_syndicated_sentence_once() -> None:
    """The same story from two sites gave the same sentence twice, "[1]. ... [1]." or once per copy, one
    with the second site's dateline before it; the next best different sentence takes the second place."""
    from rag.extractive import choose_sentences
    from rag.text import word_coverage

    def overlap(question: str, texts: list[str]) -> list[float]:
        return [word_coverage(question, text) for text in texts]

    wire = "The dock workers' union is demanding a 9.5% pay rise. The strike began on Monday at the port."
    gazette = "VALMORA — The dock workers' union is demanding a 9.5% pay rise. Talks resume on Friday."
    sentences = number_sentences([source(1, "Dock strike", wire, offset=0), source(2, "Port strike", gazette, offset=0)])
    picks, _ = choose_sentences("What pay rise is the dock workers' union demanding?", sentences, overlap)
    assert [s.text for s in picks].count("The dock workers' union is demanding a 9.5% pay rise.") <= 1
    assert sum("9.5% pay rise" in s.text for s in picks) == 1
