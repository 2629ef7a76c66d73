"""Evidence likelihood: how probable the model finds its own short answer after the passage.

A signal for the one probability (issue 13), read on stored keep-all runs without answering again. The
second look asks the 1.5B model a yes/no question, and its P(yes) separated right from wrong answers
barely better than chance on part of the report half (AUROC 0.57). This reads instead how probable the
model finds the stored short answer, token by token, when a grammar forces exactly that string after the
second look's passage and the question (teacher forcing). An answer the passage states is likely given
it; a guess from the model's own priors, or a name the passage merely contains, is not. Session 28's
files (``likelihood_*_keep_all.jsonl``) also hold ``prior_lp``, the same string after the question
alone, which the engine no longer reads (session 29); the "add" feature set still fits on it, as history.

Usage: ``python -m eval.bench.likelihood RUN.json[,RUN2.json] OUT.jsonl --index DIR`` (resumes OUT: the second
look and the likelihood read again on each stored answer, as the engine reads them), then
``python -m eval.bench.likelihood --fit TUNE.json,... --report REPORT.json,... --read OUT.jsonl,... [--looks OUT.jsonl]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rag.likelihood import evidence_messages, forced_logprobs, mean_logprob

from eval.bench.calibration import (Featurize, Row, best_threshold, cross_validated, decide, features, figures,
                                    fit, stored_rows)
from eval.bench.news import NEWS_DEV, outcome, refused_anyway
from eval.bench.relook import merge_lines, picks_of
from eval.dataset import load_dataset

# ---- the fit with the new signals (pure: stored rows plus the read likelihoods) ----

THREE_SIGNALS = ("confidence", "verification", "short")  # in the order ``calibration.features`` gives them
FEATURE_SETS = {
    "three": THREE_SIGNALS,
    "evidence": ("confidence", "verification", "short", "evidence"),  # the engine's since session 29
    "add": ("confidence", "verification", "short", "evidence", "gain"),
    "replace": ("confidence", "short", "evidence", "gain"),
    "prior": ("confidence", "verification", "short", "prior"),
}


def signal(row: Row, name: str) -> float:
    """One feature: the three stored probabilities as log-odds; the likelihoods as mean logprobs."""
    if name in THREE_SIGNALS:
        return features(row)[THREE_SIGNALS.index(name)]
    evidence, prior = row.get("evidence_lp"), row.get("prior_lp")
    if name == "evidence":
        return 0.0 if evidence is None else evidence
    if name == "prior":
        return 0.0 if prior is None else prior
    return 0.0 if evidence is None or prior is None else evidence - prior


def featurizer(names: Sequence[str]) -> Featurize:
    """The row's named signals, then 1.0 for the bias (``eval.bench.calibration`` fits and decides on it)."""
    return lambda row: [signal(row, name) for name in names] + [1.0]


def with_likelihoods(rows: Sequence[Row], read: dict[str, dict]) -> list[Row]:  # type: ignore[type-arg]
    return [{**row, **{k: v for k, v in read.get(row["id"], {}).items() if k in ("evidence_lp", "prior_lp")}}
            for row in rows]


def with_looks(rows: Sequence[Row], read: dict[str, dict]) -> list[Row]:  # type: ignore[type-arg]
    """Rows whose second look was read again (session 35: in the likelihood's chat prefix,
    ``look_in_likelihood_prefix.jsonl``) carry that reading; the stored one stays as ``verification_before``."""
    return [{**row, "verification": read[row["id"]]["verification"], "verification_before": row.get("verification")}
            if row["id"] in read else dict(row) for row in rows]


def compare(tune: Sequence[Row], report: Sequence[Row]) -> dict[str, object]:
    """Each feature set against the three signals: cross-validated on the tuning half (five folds, the
    same folds for all), and fitted on the whole tuning half then scored on the report half."""
    runs = {}
    for name, names in FEATURE_SETS.items():
        featurize = featurizer(names)
        weights = fit(tune, featurize=featurize)
        threshold = best_threshold(tune, weights, featurize)
        runs[name] = (names, weights, threshold, cross_validated(tune, featurize=featurize),
                      [decide(r, weights, threshold, featurize) for r in report])
    _, _, _, base_cv, base_report = runs["three"]
    return {name: {"weights": dict(zip([*names, "bias"], (round(float(w), 3) for w in weights), strict=True)),
                   "threshold": threshold,
                   "tune_cross_validated": figures(tune, cv, base_cv),
                   "report": figures(report, on_report, base_report)}
            for name, (names, weights, threshold, cv, on_report) in runs.items()}


def auroc_lines(rows: Sequence[Row]) -> list[str]:
    """AUROC of right against wrong among answers the thresholds decide, per signal."""
    from eval.metrics import roc_auc

    kept = [r for r in rows if not refused_anyway(r) and r.get("evidence_lp") is not None]
    labels = [outcome(r) == "right" for r in kept]
    lines = [f"{len(kept)} answers with the evidence likelihood ({sum(labels)} right)"]
    for name in ("confidence", "verification", "short", "evidence", "gain", "prior"):
        auc = roc_auc(labels, [signal(r, name) for r in kept])
        lines.append(f"  {name}: AUROC {auc if auc is None else round(auc, 3)}")
    return lines


def merged_files(paths: str | None) -> dict[str, dict]:  # type: ignore[type-arg]
    """The rows of comma-separated JSON-lines files, by id, later lines completing earlier ones."""
    merged: dict[str, dict] = {}  # type: ignore[type-arg]
    for path in (paths or "").split(","):
        if path:
            merged.update(merge_lines(Path(path).read_text(encoding="utf-8").splitlines()))
    return merged


def reread_parser(module: str, doc: str, what: str) -> argparse.ArgumentParser:
    """The command line every re-read of stored answers shares: the runs, the file of ``what`` it
    writes (resumed), the bench index and the questions."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc.split("\n")[0])
    parser.add_argument("runs", nargs="?", help="stored keep-all runs to read, comma-separated")
    parser.add_argument("out", nargs="?", type=Path, help=f"per-answer {what} (JSON Lines; resumed)")
    parser.add_argument("--index", type=Path, default=Path("bench-work/news-index-2000"))
    parser.add_argument("--dataset", type=Path, default=NEWS_DEV, help="the questions the runs answered")
    return parser


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - runs the local model for minutes
    parser = reread_parser("eval.bench.likelihood", __doc__ or "", "likelihoods")
    parser.add_argument("--fit", help="tuning-half keep-all runs, comma-separated (no model: the fit only)")
    parser.add_argument("--report", help="report-half keep-all runs, comma-separated")
    parser.add_argument("--read", help="likelihood files, comma-separated")
    parser.add_argument("--looks", help="second looks read again, comma-separated (the engine's since session 35: "
                                        "eval/bench/results/news/look_in_likelihood_prefix.jsonl)")
    args = parser.parse_args(argv)
    if args.fit:
        read, looks = merged_files(args.read), merged_files(args.looks)
        tune = with_looks(with_likelihoods(stored_rows([Path(p) for p in args.fit.split(",")]), read), looks)
        report = with_looks(with_likelihoods(stored_rows([Path(p) for p in args.report.split(",")]), read), looks)
        print("\n".join(["tuning half"] + auroc_lines(tune) + ["report half"] + auroc_lines(report)))
        print(json.dumps(compare(tune, report), indent=2))
        return 0
    read_rows(stored_rows([Path(p) for p in args.runs.split(",")]), args.out, args.index, args.dataset)
    return 0


def rereader(index: Path, dataset: Path, out: Path):  # type: ignore[no-untyped-def]  # pragma: no cover - loads the model
    """What a re-read of stored answers needs: the questions by id, the local model's reader over the
    bench index, and the ids ``out`` already holds (a stopped re-read resumes)."""
    from rag import NewsRAG, Settings

    questions = {item.id: item.question for item in load_dataset(dataset)}
    reader = NewsRAG(Settings(data_dir=index, llm="local", chroma_url=None)).query_engine()
    done = merge_lines(out.read_text(encoding="utf-8").splitlines()) if out.exists() else {}
    return questions, reader, set(done)


def read_rows(rows: Sequence[Row], out: Path, index: Path,  # pragma: no cover - runs the local model
              dataset: Path = NEWS_DEV) -> None:
    from rag.evidence import in_context

    questions, reader, done = rereader(index, dataset, out)
    with out.open("a", encoding="utf-8") as sink:
        for row in rows:
            if row["id"] in done or refused_anyway(row) or not row.get("short") or not row.get("quotes"):
                continue
            question = questions[row["id"]]
            picks = picks_of(row["quotes"], reader.shown_sentences(question), row.get("cited"))
            if not picks:
                print(f"{row['id']}: its quotes are not among the sentences found now; skipped", file=sys.stderr)
                continue
            articles = dict(reader.article_texts(list(dict.fromkeys(p.source.hit.doc_id for p in picks))))  # type: ignore[misc]
            passage = in_context(picks, articles)
            look = reader.second_look(question, passage)  # first, as the engine: the likelihood's prompt is then cached
            evidence = forced_logprobs(reader.chat, evidence_messages(question, passage), row["short"].strip())
            result = {"id": row["id"], "evidence_lp": mean_logprob(evidence), "evidence_tokens": evidence,
                      "verification": look, "verification_before": row.get("verification")}
            sink.write(json.dumps(result) + "\n")
            sink.flush()
            print(f"{row['id']}: evidence {result['evidence_lp']}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
