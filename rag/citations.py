"""Citation markers: parse ``[n]``, keep only those whose source supports the sentence, renumber.

A small model cites the wrong source now and then, or a number that does not exist. Each sentence's
markers are checked against the passages (``support_score``): a marker whose passage does not back
the sentence is moved to the passage that does, or dropped; invented numbers are always dropped;
a sentence that no passage backs is left out of the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import combinations
from dataclasses import dataclass

from rag.context import Source
from rag.text import split_sentences, support_score
from rag.types import Citation

MARKER = re.compile(r"\s*\[(\d+)\]")
MIN_SUPPORT = 0.5  # share of a sentence's content words its cited passage must contain


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer, without its markers."""

    text: str
    markers: tuple[int, ...]


@dataclass(frozen=True)
class CitedAnswer:
    text: str
    citations: list[Citation]
    invalid_markers: int  # markers that pointed at no source or at a passage that does not support
    supported_claims: int
    claims: int


def split_claims(answer: str) -> list[Claim]:
    """Sentences of an answer with the markers each one carries."""
    claims = []
    for span in split_sentences(answer):
        markers = tuple(int(m) for m in MARKER.findall(span.text))
        text = MARKER.sub("", span.text).strip()
        if text:
            claims.append(Claim(text, markers))
    return claims


def cite(answer: str, sources: Sequence[Source], question: str = "", min_support: float = MIN_SUPPORT) -> CitedAnswer:
    """Validate and renumber markers; the result's ``[n]`` index ``citations`` (1-based, in order).

    Words of the ``question`` that a sentence repeats need no support (see ``support_score``).
    """
    by_number = {source.n: source for source in sources}
    renumber: dict[int, int] = {}
    citations: list[Citation] = []
    invalid = supported = 0
    sentences: list[str] = []
    claims = split_claims(answer)
    for claim in claims:
        keep = [n for n in dict.fromkeys(claim.markers)
                if n in by_number and support_score(claim.text, by_number[n].text, question) >= min_support]
        invalid += len(set(claim.markers)) - len(keep)
        if not keep:
            keep = [source.n for source in _best_sources(claim.text, sources, question, min_support)]
        if not keep:
            continue  # a sentence no passage backs is not passed on: every claim must carry a source
        supported += 1
        for n in keep:
            if n not in renumber:
                renumber[n] = len(renumber) + 1
                citations.append(_citation(renumber[n], by_number[n], claim.text))
        sentences.append(_with_markers(claim.text, [renumber[n] for n in keep]))
    return CitedAnswer(" ".join(sentences), citations, invalid, supported, len(claims))


def _best_sources(claim: str, sources: Sequence[Source], question: str, min_support: float) -> list[Source]:
    """The one source that backs the claim best, or else the pair that backs it together
    (models merge two passages into one sentence), or nothing."""
    ranked = sorted(sources, key=lambda s: -support_score(claim, s.text, question))
    if ranked and support_score(claim, ranked[0].text, question) >= min_support:
        return ranked[:1]
    for first, second in combinations(ranked[:4], 2):
        if support_score(claim, f"{first.text}\n{second.text}", question) >= min_support:
            return sorted([first, second], key=lambda s: s.n)
    return []


def _with_markers(sentence: str, numbers: list[int]) -> str:
    """'He left.' + [1, 2] -> 'He left [1][2].' (markers inside the sentence, before its full stop)."""
    if not numbers:
        return sentence
    marks = "".join(f"[{n}]" for n in numbers)
    match = re.search(r"[.!?…]+[\"'”’)]*$", sentence)
    if match:
        return f"{sentence[:match.start()].rstrip()} {marks}{sentence[match.start():]}"
    return f"{sentence} {marks}"


def _citation(n: int, source: Source, claim: str) -> Citation:
    """The citation quotes the source sentence that best backs the claim (what the UI highlights)."""
    spans = split_sentences(source.text) or []
    best = max(spans, key=lambda s: support_score(claim, s.text), default=None)
    if best is None:
        quote, start, end = source.text, source.start, source.end
    else:
        quote, start, end = best.text, source.start + best.start, source.start + best.end
    hit = source.hit
    return Citation(n=n, doc_id=hit.doc_id, source=hit.source_name, title=hit.title, quote=quote,
                    start=start, end=end, publisher=hit.publisher)
