"""One probability from the answerer's three signals (``rag.calibration``), and the engine's one threshold on it."""

from __future__ import annotations

from rag.answering import Choice, CitedQueryEngine
from rag.calibration import TUNED_MIN_ANSWER_PROBABILITY, answer_probability
from rag.generation import ChatClient


def test_each_surer_signal_makes_the_answer_more_probably_right() -> None:
    base = answer_probability(0.4, 0.6, 0.7)
    assert answer_probability(0.8, 0.6, 0.7) > base
    assert answer_probability(0.4, 0.9, 0.7) > base
    assert answer_probability(0.4, 0.6, 0.95) > base
    assert answer_probability(0.4, None, 0.7) == answer_probability(0.4, 0.5, 0.7)  # not measured: undecided


def _engine(min_answer_probability: float | None, takes_grammar: bool = True) -> CitedQueryEngine:
    # The client is never called: ``refuses`` only reads the signals already measured.
    chat = ChatClient("local", "qwen", "http://127.0.0.1:9/v1", "none", timeout=1.0, takes_grammar=takes_grammar)
    return CitedQueryEngine(retrieve_hits=lambda question: [], scorer=lambda question, texts: [0.0] * len(texts),
                            chat=chat, min_confidence=0.0, min_verification=0.6, min_short_confidence=0.65,
                            min_answer_probability=min_answer_probability)


def test_one_threshold_weighs_the_signals_together_where_three_refuse_each_alone() -> None:
    # A sure second look outweighs a short answer written just under its own threshold.
    sure_look = Choice(confidence=0.4, verification=0.95, short_confidence=0.6)
    assert _engine(None).refuses(sure_look)
    assert not _engine(TUNED_MIN_ANSWER_PROBABILITY).refuses(sure_look)
    doubted = Choice(confidence=0.4, verification=0.3, short_confidence=0.95)  # a surely written guess it doubts
    assert _engine(TUNED_MIN_ANSWER_PROBABILITY).refuses(doubted)
    gap = Choice(confidence=0.9, verification=0.99, short_confidence=0.99, gap="only repeats the question")
    assert _engine(TUNED_MIN_ANSWER_PROBABILITY).refuses(gap)  # a short answer that does not answer never passes


def test_a_server_without_grammars_keeps_the_three_thresholds_and_claims_no_probability() -> None:
    # No grammar, no second look: the fit's largest weight would read a coin toss. A right answer the
    # choice line and short answer pass must not be refused for the look that was never made.
    no_look = Choice(confidence=0.6, short_confidence=0.7)
    openai_style = _engine(TUNED_MIN_ANSWER_PROBABILITY, takes_grammar=False)
    assert openai_style.separate_thresholds and openai_style.answer_probability(no_look) is None
    assert not openai_style.refuses(no_look)
    assert _engine(TUNED_MIN_ANSWER_PROBABILITY).refuses(no_look)  # where the look is made, missing it is doubt


def test_a_short_answer_the_passage_makes_likely_is_more_probably_right() -> None:
    """The evidence likelihood (``rag.likelihood``): an answer the model finds likely after the passage
    (mean log probability near 0) outweighs one it finds unlikely there; one not read adds nothing."""
    signals = (0.7, 0.8, 0.8)
    stated = answer_probability(*signals, evidence=-0.05)
    guessed = answer_probability(*signals, evidence=-2.5)
    assert stated > guessed
    assert guessed < TUNED_MIN_ANSWER_PROBABILITY <= stated
    assert answer_probability(*signals, evidence=None) == answer_probability(*signals)


def test_the_engine_s_probability_reads_the_likelihood_it_measured() -> None:
    read = Choice(confidence=0.7, verification=0.8, short_confidence=0.8, evidence_likelihood=-2.5)
    engine = _engine(TUNED_MIN_ANSWER_PROBABILITY)
    assert engine.answer_probability(read) == answer_probability(0.7, 0.8, 0.8, evidence=-2.5)
    assert engine.refuses(read)
    assert not engine.refuses(Choice(confidence=0.7, verification=0.8, short_confidence=0.8,
                                     evidence_likelihood=-0.05))
