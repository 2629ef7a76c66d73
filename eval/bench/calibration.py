"""One probability from the answer's signals, measured on stored runs in seconds (issue 13).

The engine refuses below three separate thresholds: the choice line's confidence, the second look's
P(yes) and the short answer's probability. A logistic regression on their log-odds turns them into one
probability that the answer is right and cited; one threshold on it, chosen on the tuning half by
``score`` (right + refused unanswerable - 2 x wrong), is then reported on the report half. Answers the
engine refuses whatever the thresholds (no citation, or a short line that does not answer) stay refused.

Only stored runs with every answer kept (``rag bench news --keep-all``) are read, so nothing is answered
again. On the tuning half the figure that counts is the cross-validated one (fitted and thresholded on
four fifths, scored on the fifth left out): the in-sample fit always looks better than it is.

Usage: ``python -m eval.bench.calibration --tune A.json,B.json --report C.json,D.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.calibration import AnswerWeights, log_odds

from eval.bench.news import Thresholds, _p_better, _points, outcome, outcome_at_probability, refused_anyway

Row = dict  # type: ignore[type-arg]  # one per_question row of a stored run
THRESHOLD_STEPS = tuple(t / 100 for t in range(30, 96))


def stored_rows(paths: Sequence[Path]) -> list[Row]:
    """Our pipeline's rows of stored runs, one per question (a later file wins)."""
    rows: dict[str, Row] = {}
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        for section in data["sections"].values():
            for row in section["ours"]["per_question"]:
                rows[row["id"]] = row
    return list(rows.values())


Featurize = Callable[[Row], list[float]]  # a row's signals, then 1.0 for the bias


def features(row: Row) -> list[float]:
    """The three signals' log-odds (``rag.calibration.log_odds``), and a constant for the bias."""
    return [log_odds(row.get("confidence")), log_odds(row.get("verification")),
            log_odds(row.get("short_confidence")), 1.0]


def fit(rows: Sequence[Row], l2: float = 1.0, steps: int = 3000, rate: float = 0.1,
        featurize: Featurize = features) -> np.ndarray:
    """Weights of P(right and cited) over the answers that reach the thresholds (gradient descent on the
    L2-regularised log loss; the bias is not regularised)."""
    kept = [row for row in rows if not refused_anyway(row)]
    x = np.array([featurize(row) for row in kept])
    y = np.array([float(outcome(row) == "right") for row in kept])
    weights = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ weights))
        weights -= rate * (x.T @ (p - y) + l2 * np.r_[weights[:-1], 0.0]) / len(y)
    return weights


def decide(row: Row, weights: np.ndarray, threshold: float, featurize: Featurize = features) -> str:
    """right, refused or wrong, had the answer been refused below ``threshold`` of the probability. The
    three signals go through the engine's own ``answer_probability``; other signals (experiments in
    ``eval.bench.likelihood``) through the same logistic form."""
    if featurize is features:
        return outcome_at_probability(row, threshold, AnswerWeights(*(float(w) for w in weights)))
    probability = 1 / (1 + math.exp(-float(np.dot(featurize(row), weights))))
    return "refused" if refused_anyway(row) or probability < threshold else outcome(row)


def best_threshold(rows: Sequence[Row], weights: np.ndarray, featurize: Featurize = features) -> float:
    """The threshold of the best score; between equal scores, the one nearest 0.7 (the middle of the steps)."""
    return max(THRESHOLD_STEPS, key=lambda t: (sum(_points(r, decide(r, weights, t, featurize)) for r in rows),
                                               -abs(t - 0.7)))


def cross_validated(rows: Sequence[Row], folds: int = 5, seed: int = 0, featurize: Featurize = features) -> list[str]:
    """Each row's outcome under a fit and threshold chosen without it (``folds``-fold)."""
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    results: list[str] = [""] * len(rows)
    for k in range(folds):
        held = set(order[k::folds])
        train = [rows[i] for i in order if i not in held]
        weights = fit(train, featurize=featurize)
        threshold = best_threshold(train, weights, featurize)
        for i in held:
            results[i] = decide(rows[i], weights, threshold, featurize)
    return results


def figures(rows: Sequence[Row], outcomes: Sequence[str], baseline: Sequence[str]) -> dict[str, object]:
    """The counts the README quotes, and the share of resamples in which these outcomes beat ``baseline``."""
    points = [_points(r, o) for r, o in zip(rows, outcomes, strict=True)]
    base = [_points(r, o) for r, o in zip(rows, baseline, strict=True)]
    return {"right": sum(o == "right" for o in outcomes), "answerable": sum(not r["unanswerable"] for r in rows),
            "unanswerable_refused": sum(o == "refused" for r, o in zip(rows, outcomes, strict=True) if r["unanswerable"]),
            "unanswerable": sum(r["unanswerable"] for r in rows), "wrong": sum(o == "wrong" for o in outcomes),
            "answered": sum(o != "refused" for o in outcomes), "score": sum(points),
            "baseline_score": sum(base), "p_better": _p_better([p - b for p, b in zip(points, base, strict=True)])}


def compare(tune: Sequence[Row], report: Sequence[Row], configured: Thresholds) -> dict[str, object]:
    """The fit on the whole tuning half, its threshold, and its figures against the configured thresholds:
    tuning half in sample and cross-validated, report half."""
    weights = fit(tune)
    threshold = best_threshold(tune, weights)
    default_tune = [outcome(r, *configured) for r in tune]
    default_report = [outcome(r, *configured) for r in report]
    return {"weights": {name: round(float(w), 3) for name, w in
                        zip(("confidence", "verification", "short", "bias"), weights, strict=True)},
            "threshold": threshold, "configured": configured,
            "tune_in_sample": figures(tune, [decide(r, weights, threshold) for r in tune], default_tune),
            "tune_cross_validated": figures(tune, cross_validated(tune), default_tune),
            "report": figures(report, [decide(r, weights, threshold) for r in report], default_report)}


def main(argv: Sequence[str] | None = None) -> int:
    from rag import Settings

    from eval.bench.news import thresholds_of

    parser = argparse.ArgumentParser(prog="python -m eval.bench.calibration", description=__doc__.split("\n")[0])
    parser.add_argument("--tune", required=True, help="stored keep-all runs of the tuning half, comma-separated")
    parser.add_argument("--report", required=True, help="stored keep-all runs of the report half, comma-separated")
    args = parser.parse_args(argv)
    confidence, verification, short = thresholds_of(Settings(llm="local"), "local")
    result = compare(stored_rows([Path(p) for p in args.tune.split(",")]),
                     stored_rows([Path(p) for p in args.report.split(",")]),
                     (confidence, verification or 0.0, short or 0.0))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
