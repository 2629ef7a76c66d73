"""The ``extractive`` backend: no language model; the answer is the best-scoring candidate sentences, cited.

Instant and deterministic, for tiny machines and CI. It never paraphrases, so it cannot hallucinate,
but it cannot combine facts into one sentence either. It chooses its evidence the way the model does
(from the same numbered sentences), and refuses when its confidence (the best sentence's score on a 0..1 scale) is below
``Settings.extractive_min_confidence``, chosen on the tuning half of news_dev.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.context import SentenceScorer
from rag.evidence import is_headline

if TYPE_CHECKING:
    from rag.evidence import Sentence

SECOND_SENTENCE_GAP = 0.15  # a second sentence only when nearly as relevant as the best: otherwise noise
# The sentence score (cosine + half the keyword overlap, about -0.2..1.5) mapped onto 0..1 by a logistic
# curve, so an answer's confidence reads the same way for every backend: 0.5 at a score of 0.45 (the
# cut-off this backend used before issue 13), and about 0.1 / 0.9 at 0.23 / 0.67.
SCORE_AT_HALF, SCORE_SCALE = 0.45, 0.1


def extractive_confidence(score: float) -> float:
    """A best-sentence score as a 0..1 confidence (monotone: thresholds on either mean the same)."""
    return 1.0 / (1.0 + math.exp(-(score - SCORE_AT_HALF) / SCORE_SCALE))


def choose_sentences(question: str, sentences: Sequence[Sentence], scorer: SentenceScorer,
                     max_sentences: int = 2) -> tuple[list[Sentence], float]:
    """The best sentence (and a second nearly as good), in text order, with the best one's score.

    An article's headline is a candidate only when nothing else is: it shares the question's words (it names
    the story) and states no detail, so "What caused the fire?" was answered "Fire damages historic
    Greystone Library [1]", and 4 of the 5 seeds_dev answers that quoted a headline were wrong."""
    sentences = [s for s in sentences if not is_headline(s)] or list(sentences)
    if not sentences:
        return [], 0.0
    scores = list(scorer(question, [s.text for s in sentences]))
    ranked = sorted(zip(scores, sentences), key=lambda pair: -pair[0])
    best = ranked[0][0]
    chosen: list[Sentence] = []
    for score, sentence in ranked:
        if len(chosen) == max_sentences or score < best - SECOND_SENTENCE_GAP:
            break
        if not any(_repeats(sentence.text, other.text) for other in chosen):
            chosen.append(sentence)
    return sorted(chosen, key=lambda s: s.n), float(best)


def _repeats(text: str, other: str) -> bool:
    """The same sentence again: a syndicated copy's ("VALMORA — " before it or not) was quoted twice."""
    a, b = (" ".join(t.casefold().split()) for t in (text, other))
    return a in b or b in a
