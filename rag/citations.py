"""Citation markers: parse ``[n]``, keep only those whose source supports the sentence, renumber.

A small model cites the wrong source now and then, or a number that does not exist. Each sentence's
markers are checked against the passages (``support_score``): a marker whose passage does not back
the sentence is moved to the passage that does, or dropped; invented numbers are always dropped;
a sentence that no passage backs is left out of the answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import combinations
from dataclasses import dataclass

from rag.context import Source
from rag.text import content_words, coverage, names, numbers, split_sentences, spelled_numbers, support_score
from rag.types import Citation

MARKER = re.compile(r"\s*\[(\d+)\]")
MIN_SUPPORT = 0.5  # share of a sentence's content words its cited passage must contain


def marker_grammar(sources: int) -> str:
    """A llama.cpp (GBNF) grammar for an answer: any text, but every ``[`` opens a ``[n]`` of a real source.

    Constrained decoding makes an invented source number impossible instead of removing it afterwards
    (seeds_dev: 1 answer in 29 had one), and keeps markers in the one form ``MARKER`` reads (a model
    writing ``[1, 2]`` otherwise loses both)."""
    numbers = " | ".join(f'"{n}"' for n in range(1, sources + 1))
    return f'root ::= ( [^\\[] | "[" n "]" )*\nn ::= {numbers}\n'


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
    invented_markers: int  # of those, markers that pointed at no source at all (numbers the model made up)
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


def cite(answer: str, sources: Sequence[Source], question: str = "", min_support: float = MIN_SUPPORT,
         articles: Mapping[str, str] | None = None) -> CitedAnswer:
    """Validate and renumber markers; the result's ``[n]`` index ``citations`` (1-based, in order).

    Words of the ``question`` that a sentence repeats need no support, and the names it asks about may
    be found anywhere in a source's article (``articles``: doc_id -> text; see ``support_score``).
    """
    check = _Checker(question, articles or {}, min_support)
    by_number = {source.n: source for source in sources}
    renumber: dict[int, int] = {}
    citations: list[Citation] = []
    invalid = invented = supported = 0
    sentences: list[str] = []
    claims = split_claims(answer)
    for claim in claims:
        keep = [n for n in dict.fromkeys(claim.markers) if n in by_number and check.backs(claim.text, by_number[n])]
        invalid += len(set(claim.markers)) - len(keep)
        invented += len(set(claim.markers) - by_number.keys())
        if not keep:
            keep = [source.n for source in check.best_sources(claim.text, sources)]
        if not keep:
            continue  # a sentence no passage backs is not passed on: every claim must carry a source
        supported += 1
        for n in keep:
            if n not in renumber:
                renumber[n] = len(renumber) + 1
                citations.append(_citation(renumber[n], by_number[n], claim.text))
        sentences.append(_with_markers(claim.text, [renumber[n] for n in keep]))
    return CitedAnswer(" ".join(sentences), citations, invalid, invented, supported, len(claims))


@dataclass(frozen=True)
class _Checker:
    """Does a source (or two) back a claim, for one question over one set of articles."""

    question: str
    articles: Mapping[str, str]
    min_support: float

    def score(self, claim: str, *sources: Source) -> float:
        passage = "\n".join(source.text for source in sources)
        background = "\n".join(self.articles.get(source.hit.doc_id, "") for source in sources)
        return support_score(claim, passage, self.question, background)

    def backs(self, claim: str, *sources: Source) -> bool:
        return self.score(claim, *sources) >= self.min_support

    def best_sources(self, claim: str, sources: Sequence[Source]) -> list[Source]:
        """The one source that backs the claim best, or else the pair that backs it together
        (models merge two passages into one sentence), or nothing."""
        ranked = sorted(sources, key=lambda s: -self.score(claim, s))
        if ranked and self.backs(claim, ranked[0]):
            return ranked[:1]
        for first, second in combinations(ranked[:4], 2):
            if self.backs(claim, first, second) and self.numbers_anchored(claim, (first, second)):
                return sorted([first, second], key=lambda s: s.n)
        return []

    def numbers_anchored(self, claim: str, pair: Sequence[Source]) -> bool:
        """Each number of a claim backed by two passages comes from one whose article names what the
        question asks about.

        Two passages together can back a sentence neither holds: "they met in Paris on January 6"
        from one article's Paris meeting and another's January 6 summit in France. A number is the fact
        a question asks for, so it must sit in a passage about the question's subject, not just anywhere.
        """
        subject = names(self.question) & names(claim)
        for number in numbers(claim):
            if not any(number in numbers(s.text) | spelled_numbers(s.text)
                       and coverage(subject, f"{s.text}\n{self.articles.get(s.hit.doc_id, '')}") == 1.0
                       for s in pair):
                return False
        return True


def _with_markers(sentence: str, numbers: list[int]) -> str:
    """'He left.' + [1, 2] -> 'He left [1][2].' (markers inside the sentence, before its full stop);
    after a closing quote they follow the whole sentence, never inside someone's words."""
    if not numbers:
        return sentence
    marks = "".join(f"[{n}]" for n in numbers)
    match = re.search(r"[.!?…]+$", sentence)
    if match:
        return f"{sentence[:match.start()].rstrip()} {marks}{sentence[match.start():]}"
    return f"{sentence} {marks}"


def _citation(n: int, source: Source, claim: str) -> Citation:
    """The citation quotes the source sentence that best backs the claim (what the UI highlights)."""
    spans = split_sentences(source.text) or []
    # The name rule of support_score zeroes every sentence when the claim's names are spread over
    # several: the shared words then decide, or the quote would be the excerpt's first sentence.
    claim_words = content_words(claim)
    best = max(spans, key=lambda s: (support_score(claim, s.text), len(claim_words & content_words(s.text))),
               default=None)
    if best is None:
        quote, start, end = source.text, source.start, source.end
    else:
        quote, start, end = best.text, source.start + best.start, source.start + best.end
    hit = source.hit
    return Citation(n=n, doc_id=hit.doc_id, source=hit.source_name, title=hit.title, quote=quote,
                    start=start, end=end, publisher=hit.publisher)
