"""The choice line's confidence read two ways from one re-read of the choice prompt's first token.

The engine reads how sure the model is that a shown sentence answers as P(its most likely first digit)
against P(``none``) (``rag.evidence.confidence_from_logprobs``). Qwen writes numbers digit by digit, so
the first token "1" stands for sentences 1 and 10-19, and when two shown sentences state the same fact
(two passages of one article, or two articles) the model's mass splits between their numbers: the most
likely digit is an arbitrary share of "some sentence answers". This re-reads every stored answer's choice
prompt (one token, the engine's grammar, its ``TOP_LOGPROBS``) and keeps both readings: ``best`` (the
engine's) and ``mass`` (every digit summed), so the one probability can be refitted with each on the same
re-read and compared (``--fit``).

Usage: ``python -m eval.bench.choice_mass RUN.json[,RUN2.json] OUT.jsonl --index DIR [--dataset D]``
(resumes OUT), then ``python -m eval.bench.choice_mass --fit DEV.json,... --holdouts H3.json,H4.json
--read OUT.jsonl --looks LOOKS.jsonl --likelihoods L1.jsonl,...``.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from eval.bench.calibration import Row, best_threshold, decide, figures, fit, stored_rows
from eval.bench.likelihood import (FEATURE_SETS, featurizer, merged_files, reread_parser, rereader, with_likelihoods,
                                   with_looks)
from eval.bench.news import NEWS_DEV, refused_anyway


def digit_mass(alternatives: Iterable[tuple[str, float]]) -> float | None:
    """P(any sentence number) against P(``none``) at the first token, renormalised over the two; None
    when neither is listed."""
    return _against_none(alternatives, sum)


def best_digit(alternatives: Iterable[tuple[str, float]]) -> float | None:
    """P(the most likely first digit) against P(``none``): the engine's reading until session 37, kept
    here so that a re-read compares the two whatever ``rag.evidence`` reads now."""
    return _against_none(alternatives, lambda ps: max(ps, default=0.0))


def _against_none(alternatives: Iterable[tuple[str, float]], combine: Callable[[list[float]], float]) -> float | None:
    numbers: list[float] = []
    refusal = 0.0
    for token, logprob in alternatives:
        word = token.strip().lower()
        if not word:
            continue
        if word[0].isdigit():
            numbers.append(math.exp(logprob))
        elif "none".startswith(word) or word.startswith("none"):
            refusal += math.exp(logprob)
    total = combine(numbers) + refusal
    return combine(numbers) / total if total > 0 else None


def with_confidence(rows: Sequence[Row], read: dict[str, dict], reading: str) -> list[Row]:  # type: ignore[type-arg]
    """Rows whose choice token was re-read carry that ``reading`` ("best" or "mass") as their confidence."""
    return [{**row, "confidence": read[row["id"]][reading]} if row["id"] in read and read[row["id"]][reading]
            is not None else dict(row) for row in rows]


def compare(dev: Sequence[Row], holdouts: dict[str, Sequence[Row]], read: dict[str, dict]) -> dict[str, object]:  # type: ignore[type-arg]
    """The one probability refitted on ``dev`` with each reading, its threshold by score on ``dev``;
    the holdouts' figures at each fit's own threshold."""
    featurize = featurizer(FEATURE_SETS["evidence"])
    out: dict[str, object] = {}
    for reading in ("best", "mass"):
        rows = with_confidence(dev, read, reading)
        weights = fit(rows, featurize=featurize)
        threshold = best_threshold(rows, weights, featurize)
        result: dict[str, object] = {
            "weights": [round(float(w), 3) for w in weights], "threshold": threshold,
            "dev": _figures(rows, [decide(r, weights, threshold, featurize) for r in rows])}
        for name, holdout in holdouts.items():
            held = with_confidence(holdout, read, reading)
            result[name] = _figures(held, [decide(r, weights, threshold, featurize) for r in held])
        out[reading] = result
    return out


def _figures(rows: Sequence[Row], outcomes: list[str]) -> dict[str, object]:
    full = figures(rows, outcomes, outcomes)
    return {k: full[k] for k in ("right", "unanswerable_refused", "wrong", "answered", "score")}


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - runs the local model for minutes
    parser = reread_parser("eval.bench.choice_mass", __doc__ or "", "readings")
    parser.add_argument("--fit", help="news_dev keep-all runs, comma-separated (no model: the fit only)")
    parser.add_argument("--holdouts", help="holdout keep-all runs, comma-separated")
    parser.add_argument("--read", help="readings files, comma-separated")
    parser.add_argument("--looks", help="second looks read again, comma-separated")
    parser.add_argument("--likelihoods", help="likelihood files, comma-separated")
    args = parser.parse_args(argv)
    if args.fit:
        read, looks, likelihoods = merged_files(args.read), merged_files(args.looks), merged_files(args.likelihoods)
        def load(paths: str) -> list[Row]:
            return with_looks(with_likelihoods(stored_rows([Path(p) for p in paths.split(",")]), likelihoods), looks)
        holdouts = {Path(p).name: load(p) for p in (args.holdouts or "").split(",") if p}
        print(json.dumps(compare(load(args.fit), holdouts, read), indent=2))
        return 0
    read_rows(stored_rows([Path(p) for p in args.runs.split(",")]), args.out, args.index, args.dataset)
    return 0


def read_rows(rows: Sequence[Row], out: Path, index: Path,  # pragma: no cover - runs the local model
              dataset: Path = NEWS_DEV) -> None:
    from rag.evidence import TOP_LOGPROBS, evidence_grammar
    from rag.generation import Usage

    questions, reader, done = rereader(index, dataset, out)
    assert reader.chat is not None
    with out.open("a", encoding="utf-8") as sink:
        for row in rows:
            if row["id"] in done or refused_anyway(row):
                continue
            question = questions[row["id"]]
            count = len(reader.shown_sentences(question))
            usage = Usage()
            for _ in reader.chat.stream(reader.choice_messages(question), 1, 0.0, usage,
                                        grammar=evidence_grammar(count, True), top_logprobs=TOP_LOGPROBS):
                pass
            alternatives = usage.tokens[0][1] if usage.tokens else []
            result = {"id": row["id"], "best": best_digit(alternatives), "mass": digit_mass(alternatives),
                      "stored": row.get("confidence"), "sentences": count,
                      "alternatives": [[t, round(lp, 4)] for t, lp in alternatives]}
            sink.write(json.dumps(result) + "\n")
            sink.flush()
            print(f"{row['id']}: best {result['best']} mass {result['mass']} stored {result['stored']}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
