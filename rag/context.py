"""Choose what the model reads: the few sentences of each retrieved passage that bear on the question.

Prompt length is the latency budget on a CPU (~85 prompt tokens/s). Whole chunks of four passages
cost ~600 tokens; the best sentences of each, with their neighbours for context, cost about half,
and keep exact offsets so citations still quote the article verbatim.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.text import Span, split_sentences, word_coverage
from rag.types import Hit

# Scores every sentence against the question: higher is more relevant.
SentenceScorer = Callable[[str, Sequence[str]], Sequence[float]]


@dataclass(frozen=True)
class Source:
    """One numbered source block of the prompt: a contiguous excerpt of a hit, in article offsets."""

    n: int
    hit: Hit
    text: str
    start: int
    end: int
    relevance: float  # best sentence score within the excerpt


def embedding_scorer(embed: Callable[[str, list[str]], np.ndarray]) -> SentenceScorer:
    """Cosine similarity of normalised embeddings plus half the lexical overlap (names and numbers).

    ``embed(question, sentences)`` returns the question's vector first, then each sentence's.
    """

    def score(question: str, sentences: Sequence[str]) -> list[float]:
        if not sentences:
            return []
        vectors = embed(question, list(sentences))
        cosines = vectors[1:] @ vectors[0]
        # A question without content words adds the same 0.5 to every sentence: the order is the cosines'.
        return [float(c) + 0.5 * word_coverage(question, s) for c, s in zip(cosines, sentences)]

    return score


def build_sources(question: str, hits: Sequence[Hit], scorer: SentenceScorer,
                  budget_chars: int = 1400, window: int = 1, margin: float = 0.0) -> list[Source]:
    """One excerpt per hit: its best sentence plus ``window`` neighbours each side, within the budget.

    Hits keep their retrieval order; excerpts from the same stretch of one article are merged away.
    With a ``margin`` above 0, excerpts whose best sentence scores more than ``margin`` below the best
    excerpt's are left out (``within_margin``); 0 keeps them all.
    """
    if not hits:
        return []
    per_hit = [split_sentences(hit.text) for hit in hits]
    flat = [span.text for spans in per_hit for span in spans]
    scores = list(scorer(question, flat))
    per_source_budget = max(240, budget_chars // len(hits))
    sources: list[Source] = []
    cursor = 0
    for hit, spans in zip(hits, per_hit):
        hit_scores = scores[cursor:cursor + len(spans)]
        cursor += len(spans)
        if not spans:
            continue
        text, start, end, relevance = _best_window(hit, spans, hit_scores, window, per_source_budget)
        if any(s.hit.doc_id == hit.doc_id and start < s.end and s.start < end for s in sources):
            continue  # overlapping chunks of one article: the better-ranked excerpt is enough
        sources.append(Source(len(sources) + 1, hit, text, start, end, relevance))
    return within_margin(sources, margin) if margin > 0 else sources


MAX_SENTENCE_COMPLETION = 600  # characters a hit grows by at each edge: a text without stops is one "sentence"


def with_whole_sentences(hits: Sequence[Hit], articles: Mapping[str, str]) -> list[Hit]:
    """Each hit grown to the sentences its first and last are part of, from its article's stored text.

    A sentence longer than a chunk is cut at a clause (and chunk size counts GPT tokens, so an Arabic
    chunk is ~180 characters): the excerpt ended "... a new plant in Sohar with a capacity" and the quote,
    and the answer, lost "of 250,000 cubic metres a day". An edge more than ``MAX_SENTENCE_COMPLETION``
    characters from its sentence's end stays where it is."""
    grown, sentences = [], {}  # doc_id -> its article's sentences, split once for all its hits
    for hit in hits:
        article = articles.get(hit.doc_id, "")
        if article[hit.start:hit.end] != hit.text:  # not the stored text (an older index): as it is
            grown.append(hit)
            continue
        start, end = hit.start, hit.end
        if hit.doc_id not in sentences:
            sentences[hit.doc_id] = split_sentences(article)
        for span in sentences[hit.doc_id]:
            if span.start < start < span.end and start - span.start <= MAX_SENTENCE_COMPLETION:
                start = span.start
            if span.start < end < span.end and span.end - end <= MAX_SENTENCE_COMPLETION:
                end = span.end
        grown.append(hit if (start, end) == (hit.start, hit.end)
                     else replace(hit, text=article[start:end], start=start, end=end))
    return grown


def within_margin(sources: Sequence[Source], margin: float) -> list[Source]:
    """The sources whose relevance is within ``margin`` of the best one, renumbered 1..n in order.

    Retrieval always returns top_k passages, related or not, and on a CPU every excerpt costs ~1 s of
    prefill: an excerpt far less relevant than the best rarely holds the answer (on seeds_dev, no
    excerpt holding a required fact scored more than 0.27 below the best; the ones dropped at 0.3
    are mostly other parts of the same story).
    """
    if not sources:
        return []
    best = max(source.relevance for source in sources)
    kept = [source for source in sources if source.relevance >= best - margin]
    return [replace(source, n=n) for n, source in enumerate(kept, start=1)]


def _best_window(hit: Hit, spans: list[Span], scores: Sequence[float], window: int,
                 budget: int) -> tuple[str, int, int, float]:
    best = max(range(len(spans)), key=lambda i: scores[i])
    first, last = best, best
    # Grow around the best sentence while the excerpt stays within budget, the more relevant
    # neighbour first: "The meeting took place at the Elysee Palace" after "...met in Paris" matters
    # more than the sentence before it when the budget holds only one of them.
    for _ in range(window):
        neighbours = [i for i in (first - 1, last + 1) if 0 <= i < len(spans)]
        for i in sorted(neighbours, key=lambda i: -scores[i]):
            if spans[max(last, i)].end - spans[min(first, i)].start <= budget:
                first, last = min(first, i), max(last, i)
    local_start, local_end = spans[first].start, spans[last].end
    text = hit.text[local_start:local_end]
    return text, hit.start + local_start, hit.start + local_end, scores[best]
