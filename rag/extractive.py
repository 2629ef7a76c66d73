"""The ``extractive`` backend: no language model; the answer is the best supporting sentences, cited.

Instant and deterministic, for tiny machines and CI. It never paraphrases, so it cannot hallucinate,
but it cannot combine facts into one sentence either.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.context import SentenceScorer, Source
from rag.text import split_sentences

MIN_SENTENCE_SCORE = 0.45  # below this no sentence answers the question (calibrated on seeds_dev)


def extract_answer(question: str, sources: Sequence[Source], scorer: SentenceScorer,
                   max_sentences: int = 2) -> str:
    """Up to ``max_sentences`` of the best sentences, each followed by its source marker; '' = refuse."""
    candidates = [(span.text, source.n) for source in sources for span in split_sentences(source.text)]
    if not candidates:
        return ""
    scores = scorer(question, [text for text, _ in candidates])
    ranked = sorted(zip(scores, candidates), key=lambda pair: -pair[0])
    best_score = ranked[0][0]
    if best_score < MIN_SENTENCE_SCORE:
        return ""
    # A second sentence only when it is nearly as relevant: otherwise it is noise.
    chosen = [c for s, c in ranked[:max_sentences] if s >= max(MIN_SENTENCE_SCORE, best_score - 0.15)]
    return "\n".join(f"{text} [{n}]" for text, n in chosen)  # a line each: headlines have no full stop
