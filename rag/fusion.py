"""Pure ranking logic: reciprocal rank fusion and near-duplicate collapsing.

llama-index's ``QueryFusionRetriever`` has RRF too, but welded to its async retriever plumbing and
without duplicate collapsing; as pure functions both are testable without any index.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from rag.text import word_tokens

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

RRF_K = 60  # the constant of Cormack et al. (2009); dampens the weight of the very first ranks


def reciprocal_rank_fusion(rankings: Sequence[Sequence[K]], k: int = RRF_K,
                           weights: Sequence[float] | None = None) -> list[tuple[K, float]]:
    """Fuse ranked id lists: score(id) = sum_i w_i / (k + rank_i(id)); best first, ties by first seen."""
    if weights is not None and len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    scores: dict[K, float] = {}
    for index, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[index]
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def shingles(text: str, size: int = 5) -> set[tuple[str, ...]]:
    """Word n-grams: two passages sharing most of them are the same text (syndicated copies)."""
    words = word_tokens(text.lower())
    if len(words) < size:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: set, b: set) -> float:  # type: ignore[type-arg]
    return len(a & b) / len(a | b) if a and b else 0.0


def collapse_near_duplicates(items: Sequence[T], text_of: Callable[[T], str],
                             threshold: float = 0.8) -> list[T]:
    """Keep the first (best-ranked) of each group of passages whose shingle overlap >= threshold."""
    kept: list[T] = []
    kept_shingles: list[set] = []  # type: ignore[type-arg]
    for item in items:
        grams = shingles(text_of(item))
        if any(jaccard(grams, other) >= threshold for other in kept_shingles):
            continue
        kept.append(item)
        kept_shingles.append(grams)
    return kept
