"""Is the evidence about another thing than the one asked? A fifth signal, measured on stored runs (issue 13).

A sibling trap asks 2013's crash toll of an article that gives only 2011's; the reader picks the 2011
sentence and every signal passes it. Session 33's word shares (the question's words around the quote,
in the round trip's written question) diluted the one changed qualifier among the many shared words.
This signal looks only at the question's specifics, its names and numbers (``rag.text``): it flags an
answer when one of them is missing from the target text *and* the target holds another specific of the
same type that neither the question nor the short answer has (a number for a missing number, a name for
a missing name): "the sentence speaks of 2011 where 2013 was asked". As registered it is crude: a name
the question leaves out of someone it names counts as another ("Barack" in "Barack Obama said in
Germany's capital", asked about Obama in Berlin).

Two targets were registered (session 34, before anything was computed): the round trip's written
question (``roundtrip_keep_all.jsonl``, a model call in the engine) and the answer's quoted sentences
(no model call). Each is the fifth input of the one probability, fitted by the engine's recipe on the
524 news_dev rows (``fifth_signal``); the decisions are in ``eval/EXPERIMENTS.md``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from rag.calibration import ANSWER_WEIGHTS, AnswerWeights
from rag.text import content_words, name_in, names, numbers

from eval.bench.calibration import Featurize, Row, best_threshold, decide, figures, fit
from eval.bench.likelihood import FEATURE_SETS, featurizer
from eval.bench.news import outcome_at_probability
from eval.dataset import load_dataset

Target = Callable[[Row], str | None]  # the text a row's evidence is read from


def speaks_of_another(question: str, target: str, short: str = "") -> bool:
    """A name or number of the question is missing from ``target``, which names or numbers another
    thing of that type instead (one the short answer does not hold: the answer itself is no qualifier)."""
    words, question_words, short_words = content_words(target), content_words(question), content_words(short)
    target_numbers, asked_numbers, short_numbers = numbers(target), numbers(question), numbers(short)
    missing_number = any(n not in target_numbers for n in asked_numbers)
    other_number = any(n not in asked_numbers and n not in short_numbers for n in target_numbers)
    missing_name = any(not name_in(n, words) for n in names(question))
    other_name = any(not name_in(n, question_words) and not name_in(n, short_words)
                     for n in names(target, openers=True))
    return (missing_number and other_number) or (missing_name and other_name)


def questions_of(dataset_paths: Sequence[Path]) -> dict[str, str]:
    """id -> question over the sets a stored run answered (the rows keep ids, not questions)."""
    found: dict[str, str] = {}
    for path in dataset_paths:
        for item in load_dataset(path):
            found.setdefault(item.id, item.question)
    return found


def quoted(row: Row) -> str | None:
    """Variant B's target: the sentences the answer quotes."""
    return " ".join(quote for quote in row.get("quotes") or [] if quote.strip()) or None


def written_questions(path: Path) -> Target:
    """Variant A's target: the question the local model wrote for the answer's quotes (the round trip)."""
    written = {v["id"]: v["written"] for v in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
    return lambda row: written.get(row["id"])


def with_mismatch(rows: Sequence[Row], questions: dict[str, str], target: Target) -> list[Row]:
    """Each row with ``mismatch`` 1.0 where its evidence speaks of another thing, else 0.0 (no target: 0)."""
    for row in rows:
        text = target(row)
        row["mismatch"] = float(bool(text) and speaks_of_another(questions[row["id"]], text, row.get("short") or ""))
    return list(rows)


def featurize_with_mismatch() -> Featurize:
    """The engine's four inputs, then the mismatch, then the bias."""
    base = featurizer(FEATURE_SETS["evidence"])
    return lambda row: base(row)[:-1] + [row["mismatch"], 1.0]


def fifth_signal(dev: Sequence[Row]) -> tuple[list[float], float]:
    """The engine's recipe with the mismatch as a fifth input: weights and threshold fitted on ``dev``."""
    featurize = featurize_with_mismatch()
    weights = fit(dev, featurize=featurize)
    return [float(w) for w in weights], best_threshold(dev, weights, featurize)


def scored(rows: Sequence[Row], weights: Sequence[float], threshold: float,
           default_threshold: float, default_weights: AnswerWeights = ANSWER_WEIGHTS) -> dict[str, object]:
    """The fitted signal against the default (the engine's, or the one it was decided against) on one
    set (``figures``: score, p_better)."""
    import numpy as np

    featurize = featurize_with_mismatch()
    new = [decide(row, np.array(weights), threshold, featurize) for row in rows]
    old = [outcome_at_probability(row, default_threshold, default_weights) for row in rows]
    return figures(rows, new, old)
