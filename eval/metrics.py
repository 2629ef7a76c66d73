"""Metric arithmetic, pure: no I/O, no model. One function per metric, each testable on hand-made cases.

Per-item metrics return ``None`` when they do not apply (citation recall of a question without gold
sources, faithfulness of a refusal); aggregation averages what applies and says over how many items.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from rag.citations import MARKER
from rag.text import WORD_START


class MetricInputError(ValueError):
    """A metric was given an empty or missing input; the message names the field."""


def require(value: object, field: str) -> None:
    """Reject a missing or empty input, naming it (ragas-style): a silent 0 would look like a result."""
    if value is None or (isinstance(value, (str, list, tuple, set, frozenset, dict)) and not value):
        raise MetricInputError(f"missing or empty input: {field}")


# --- correctness -------------------------------------------------------------------------------------

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


def normalise(text: str) -> str:
    """Lower case, typographic quotes and dashes made plain, white space collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    return re.sub(r"\s+", " ", text).strip()


# An acronym: two or more capitals, each maybe followed by a dot ("UK", "U.K.", "NATO").
_ACRONYM = re.compile(r"(?:[A-Z]\.?){2,}")


def mentions(text: str, alternative: str) -> bool:
    """``alternative`` occurs in ``text`` starting at a word boundary of any script; a number must not run on.

    Suffixes are allowed ("ceasefire" matches "ceasefires") but "400" does not match "4000", "1400" or
    "1,400,000". An acronym is matched as written, whole, and with or without its dots (``_mentions_acronym``).
    """
    if _ACRONYM.fullmatch(alternative.strip()):
        return _mentions_acronym(text, alternative.strip())
    wanted = normalise(alternative)
    if not wanted:
        return False
    starts = WORD_START + (r"(?<![0-9][.,])" if wanted[0].isdigit() else "")
    pattern = starts + re.escape(wanted) + (r"(?![0-9]|[.,][0-9])" if wanted[-1].isdigit() else "")
    return re.search(pattern, normalise(text)) is not None


def _mentions_acronym(text: str, acronym: str) -> bool:
    """"UK" and "U.K." name one thing, and neither is the start of "Ukraine", nor "US" the word "us".

    Case-insensitive prefix matching (right for words: "ceasefires") reads an acronym as the first
    letters of a longer word, so it is matched in capitals, dots optional, and not run on by a letter
    other than a plural's.
    """
    letters = acronym.replace(".", "")
    pattern = r"(?<![A-Za-z0-9])" + r"\.?".join(map(re.escape, letters)) + r"\.?(?:'?s)?(?![A-Za-z0-9])"  # "NGOs"
    return re.search(pattern, unicodedata.normalize("NFKC", text)) is not None


def must_recall(answer: str, must: Sequence[str]) -> float:
    """Share of the ``must`` items the answer mentions; an item is ``a|b|c`` (any alternative counts)."""
    require(must, "must")
    found = sum(any(mentions(answer, alt) for alt in item.split("|")) for item in must)
    return found / len(must)


# --- citations and retrieval -------------------------------------------------------------------------

def strip_markers(text: str) -> str:
    """The text without its ``[n]`` markers (a claim is judged on its words only)."""
    return MARKER.sub("", text).strip()


def article_label(source_name: str, source: str) -> str:
    """How a dataset names an article: its file's name, and for one article of a JSON Lines or JSON
    collection the file's name, ``#`` and the item's key (its id, else its url): ``feed.jsonl#42``.
    The loader stores such an article's source as ``<path>/<file>#<key>``."""
    marker = f"{os.sep}{source_name}#"
    at = source.find(marker)
    return source_name if not source_name or at < 0 else source_name + source[at + len(marker) - 1:]


def names_article(gold: str, label: str) -> bool:
    """Does a gold source name this article? ``feed.jsonl`` names every article of the file (as a file
    name always did), ``feed.jsonl#42`` only the one keyed 42: comparing file names alone counted any
    two articles of one collection as the same source."""
    return label == gold or label.startswith(gold + "#")


def _named(label: str, gold: Iterable[str]) -> bool:
    return any(names_article(source, label) for source in gold)


def gold_cited(cited: Iterable[str], gold: Iterable[str]) -> bool | None:
    """Does the answer cite at least one gold article? None when the question has no gold sources."""
    gold_set = set(gold)
    return any(_named(label, gold_set) for label in set(cited)) if gold_set else None


def citation_precision(cited: Iterable[str], gold: Iterable[str]) -> float | None:
    """Share of the cited articles that are gold; None when nothing is cited."""
    cited_set, gold_set = set(cited), set(gold)
    if not cited_set:
        return None
    return sum(_named(label, gold_set) for label in cited_set) / len(cited_set)


def citation_recall(cited: Iterable[str], gold: Iterable[str]) -> float | None:
    """Share of the gold sources that are cited; None when the question has no gold sources."""
    gold_set, cited_set = set(gold), set(cited)
    if not gold_set:
        return None
    return sum(any(names_article(source, label) for label in cited_set) for source in gold_set) / len(gold_set)


def retrieval_hit(retrieved: Sequence[str], gold: Iterable[str]) -> float | None:
    """1.0 if any gold article is among the retrieved passages' articles; None without gold sources."""
    gold_set = set(gold)
    if not gold_set:
        return None
    return 1.0 if any(_named(label, gold_set) for label in set(retrieved)) else 0.0


def reciprocal_rank(retrieved: Sequence[str], gold: Iterable[str]) -> float | None:
    """1 / rank of the first passage from a gold article (0 if none); None without gold sources."""
    gold_set = set(gold)
    if not gold_set:
        return None
    for rank, label in enumerate(retrieved, start=1):
        if _named(label, gold_set):
            return 1.0 / rank
    return 0.0


# --- faithfulness ------------------------------------------------------------------------------------


def faithfulness(verdicts: Sequence[bool | None]) -> float | None:
    """Supported / judged claims. Unjudged claims (None) count neither way; None when nothing was judged."""
    judged = [v for v in verdicts if v is not None]
    if not judged:
        return None
    return sum(judged) / len(judged)


# --- binary classification (the judge on HaluEval) --------------------------------------------------


def accuracy(labels: Sequence[bool], predictions: Sequence[bool | None]) -> float:
    """Share predicted right; an unjudged prediction (None) counts as wrong."""
    _same_length(labels, predictions)
    return sum(p is not None and p == y for y, p in zip(labels, predictions)) / len(labels)


def balanced_accuracy(labels: Sequence[bool], predictions: Sequence[bool | None]) -> float:
    """Mean of the accuracy on positives and on negatives, so a judge that always says Yes scores 0.5."""
    _same_length(labels, predictions)
    rates = []
    for cls in (True, False):
        picked = [p for y, p in zip(labels, predictions) if y is cls]
        if picked:
            rates.append(sum(p is cls for p in picked) / len(picked))
    return sum(rates) / len(rates)


def roc_auc(labels: Sequence[bool], scores: Sequence[float | None]) -> float | None:
    """Probability that a random positive scores above a random negative (ties count half).

    Rank-based (Mann-Whitney U) with average ranks for ties; items without a score are left out.
    None when only one class remains.
    """
    _same_length(labels, scores)
    pairs = [(s, y) for y, s in zip(labels, scores) if s is not None]
    positives = sum(y for _, y in pairs)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        return None
    ranks = _average_ranks([s for s, _ in pairs])
    rank_sum = sum(rank for rank, (_, y) in zip(ranks, pairs) if y)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def _average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def _same_length(labels: Sequence[object], other: Sequence[object]) -> None:
    require(labels, "labels")
    if len(labels) != len(other):
        raise MetricInputError(f"labels ({len(labels)}) and predictions ({len(other)}) differ in length")


# --- aggregation -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """``numpy.percentile`` (linear interpolation, ``q`` in 0..100) as a plain float; None for no values."""
    if not len(values):
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q))


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that apply (not None); None when none does."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def mean_of(rows: Sequence[Mapping[str, object]], key: str) -> float | None:
    return mean(_number(row.get(key)) for row in rows)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    return float(value) if isinstance(value, (int, float)) else None


# --- the summary of a run ----------------------------------------------------------------------------

# summary key -> (per-item key, which items: "answerable" | "unanswerable" | "all", how: "mean" | "sum")
_AGGREGATES: dict[str, tuple[str, str, str]] = {
    "correct": ("correct", "answerable", "mean"),
    "must_recall": ("must_recall", "answerable", "mean"),
    "reference_agreement": ("reference_agreement", "answerable", "mean"),
    "faithfulness_cited": ("faithfulness_cited", "all", "mean"),
    "faithfulness_retrieved": ("faithfulness_retrieved", "all", "mean"),
    "faithfulness_draft": ("faithfulness_draft", "all", "mean"),
    "citation_precision": ("citation_precision", "answerable", "mean"),
    "citation_recall": ("citation_recall", "answerable", "mean"),
    "retrieval_hit_rate": ("retrieval_hit", "answerable", "mean"),
    "retrieval_mrr": ("reciprocal_rank", "answerable", "mean"),
    "refusal_rate": ("refused", "unanswerable", "mean"),
    "false_refusal_rate": ("refused", "answerable", "mean"),
    "claims": ("claims", "all", "sum"),
    "unsupported_claims": ("unsupported_claims", "all", "sum"),
    "filtered_claims": ("filtered_claims", "all", "sum"),
    "unjudged_claims": ("unjudged_claims", "all", "sum"),
    "correct_with_gold_citation": ("gold_cited", "answerable", "mean"),
    "errors": ("error", "all", "sum"),
    "prompt_tokens_mean": ("prompt_tokens", "all", "mean"),
}
_LATENCIES = {"latency_total": "latency_total", "latency_first_token": "latency_first_token"}
SUMMARY_METRICS: tuple[str, ...] = (
    *_AGGREGATES, *(f"{name}_{q}" for name in _LATENCIES for q in ("p50", "p95")), "items", "answerable",
    "unanswerable",
)


def summarize(rows: Sequence[Mapping[str, object]]) -> dict[str, float | int | None]:
    """Aggregate per-item metric rows (each with an ``answerable`` flag) into the run's summary.

    Rates are means over the items they apply to (None when none does); counts are sums; latencies are
    p50/p95 over the items that have them.
    """
    require(rows, "rows")
    subsets = {"all": list(rows), "answerable": [r for r in rows if r.get("answerable")],
               "unanswerable": [r for r in rows if not r.get("answerable")]}
    summary: dict[str, float | int | None] = {
        "items": len(rows), "answerable": len(subsets["answerable"]), "unanswerable": len(subsets["unanswerable"]),
    }
    for name, (key, subset, how) in _AGGREGATES.items():
        if how == "sum":
            summary[name] = int(sum(_number(r.get(key)) or 0 for r in subsets[subset]))
        else:
            summary[name] = mean_of(subsets[subset], key)
    for name, key in _LATENCIES.items():
        values = [v for v in (_number(r.get(key)) for r in rows) if v is not None]
        summary[f"{name}_p50"] = percentile(values, 50)
        summary[f"{name}_p95"] = percentile(values, 95)
    return summary


# --- thresholds (the CI gate) ------------------------------------------------------------------------


def parse_threshold(text: str) -> tuple[str, float]:
    """``"faithfulness_cited=0.8"`` -> ``("faithfulness_cited", 0.8)``; unknown names list the valid ones."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep:
        raise MetricInputError(f"threshold {text!r} is not METRIC=VALUE")
    if name not in SUMMARY_METRICS:
        raise MetricInputError(f"unknown metric {name!r} in threshold; choose one of {', '.join(SUMMARY_METRICS)}")
    try:
        limit = float(value)
    except ValueError:
        raise MetricInputError(f"threshold {text!r}: {value!r} is not a number") from None
    if not math.isfinite(limit):  # "nan": every comparison with it is false, so the gate always passed
        raise MetricInputError(f"threshold {text!r}: the value must be a finite number")
    return name, limit


def threshold_failures(summary: Mapping[str, object], minimums: Mapping[str, float],
                       maximums: Mapping[str, float]) -> list[str]:
    """One message per broken threshold; a metric that was not measured (None) breaks its threshold."""
    failures = []
    for bound, limits in (("min", minimums), ("max", maximums)):
        for name, limit in limits.items():
            value = _number(summary.get(name))
            if value is None:
                failures.append(f"{name} was not measured (threshold {bound} {limit:g})")
            elif (value < limit) if bound == "min" else (value > limit):
                failures.append(f"{name} = {value:.3g} is {'below' if bound == 'min' else 'above'} {limit:g}")
    return failures
