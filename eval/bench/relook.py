"""A second-look experiment in minutes: stored picks re-read with another passage.

A thresholds-off run of ``rag bench news --half tune`` stores each answer's cited sentences. Retrieval
and excerpts are deterministic, so the same numbered sentences come back for the same question, and
the quotes find the picks among them. Each variant builds the second look's passage from those picks
and the second look reads it: one short prompt per answer, ~12 minutes for the tuning half instead of
~55 for a full run. ``window1`` is the passage the engine reads today: re-reading a width-1 run with it
gave back the stored P(yes) within 0.05 for 75 of 81 answers (2026-12-03; the others cite sentences
that are not exactly the ones the look read), so variants are compared with each other, all re-read.

Usage: ``python -m eval.bench.relook RUN.json[,RUN2.json] OUT.jsonl [--variant NAME ...]`` (resumes OUT: a variant
an answer already has is not read again), then the AUROC of right against wrong answers and the
default's outcome for each variant.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from rag.evidence import Sentence, in_context, titled, window_bounds
from rag.text import split_sentences

from eval.bench.calibration import cross_validated, figures, stored_rows
from eval.bench.news import NEWS_DEV, outcome
from eval.dataset import load_dataset
from eval.metrics import roc_auc

SentenceScorer = Callable[[str, Sequence[str]], Sequence[float]]  # the engine's question-to-sentence scorer
Variant = Callable[[Sequence[Sentence], Mapping[str, str], str, SentenceScorer], str]
MIN_SENTENCE_CHARS = 20  # shorter "sentences" are bylines and captions, never the predicate


def window(width: int) -> Variant:
    """The engine's passage: each pick with ``width`` sentences either side (``in_context``)."""
    return lambda picks, articles, question, scorer: in_context(picks, articles, width)


def with_question_best(picks: Sequence[Sentence], articles: Mapping[str, str], question: str,
                       scorer: SentenceScorer) -> str:
    """Each pick's one-sentence window plus the sentence of the same article closest to the question
    outside it, in article order: the asked detail often sits in a sentence that does not name the answer."""
    parts = []
    for pick in picks:
        article = articles.get(pick.source.hit.doc_id, "")
        spans = split_sentences(article) if article else []
        bounds = window_bounds(pick, spans, 1)
        if bounds is None:
            parts.append(in_context([pick], articles, 1))
            continue
        first, last = bounds
        others = [i for i in range(len(spans)) if not first <= i < last and len(spans[i].text) > MIN_SENTENCE_CHARS]
        shown = " ".join(span.text for span in spans[first:last])
        if others:
            scores = scorer(question, [spans[i].text for i in others])
            best = others[max(range(len(others)), key=lambda k: scores[k])]
            shown = " ... ".join([spans[best].text, shown] if best < first else [shown, spans[best].text])
        parts.append(titled(pick, shown))
    return " ... ".join(dict.fromkeys(parts))


VARIANTS: dict[str, Variant] = {"window0": window(0), "window1": window(1), "window2": window(2),
                                "question-best": with_question_best}


CONTINUED = "continued"  # not a passage: the look made inside the choice chat (``continued_messages``)
CONTINUED_LOOK = "Do sentence{s} {numbers} state the answer to the question? Reply yes or no."


def continued_messages(chosen: list[dict[str, str]], picks: Sequence[Sentence], short: str) -> list[dict[str, str]]:
    """The second look as a continuation of the chat the model chose in: its reply so far (the anchored
    numbers and its short answer), then one yes/no turn about those sentences. With the server's prompt
    cache only this last turn is new prompt, instead of the whole passage in a chat of its own."""
    numbers = ",".join(str(p.n) for p in picks)
    return [*chosen, {"role": "assistant", "content": f"{numbers}\nShort: {short}"},
            {"role": "user", "content": CONTINUED_LOOK.format(s="s" if len(picks) > 1 else "", numbers=numbers)}]


def continued_look(reader, question: str, picks: Sequence[Sentence], short: str) -> float:  # type: ignore[no-untyped-def]  # pragma: no cover - runs the model
    """P(yes) of the continued look: the engine's own choice chat for ``question``, continued by
    ``continued_messages``."""
    return reader.yes_probability(continued_messages(reader.choice_messages(question), picks, short))


def picks_of(quotes: Sequence[str], sentences: Sequence[Sentence], cited: Sequence[str] | None = None) -> list[Sentence]:
    """The numbered sentences a stored answer cited, found by their text (and, when the row names them,
    only in the articles it cited: a sentence two articles share is not picked twice)."""
    wanted = {quote.strip() for quote in quotes}
    return [sentence for sentence in sentences if sentence.text.strip() in wanted
            and (cited is None or sentence.source.hit.source_name in cited)]


def merge_lines(lines: Sequence[str]) -> dict[str, dict]:  # type: ignore[type-arg]
    """``{id: values}`` from an OUT file, later lines adding variants to earlier ones; a torn last line
    (a stopped run) is left out."""
    merged: dict[str, dict] = {}  # type: ignore[type-arg]
    for line in lines:
        try:
            values = json.loads(line)
        except json.JSONDecodeError:
            continue
        merged.setdefault(values["id"], {}).update(values)
    return merged


def summary(rows: Sequence[dict], relooked: Sequence[dict], variants: Sequence[str],  # type: ignore[type-arg]
            default: tuple[float, float, float]) -> list[str]:
    """Per variant: AUROC of right against wrong answers (thresholds off), and the default's outcome
    with the variant's P(yes) in place of the stored one."""
    by_id = {row["id"]: row for row in rows}
    lines = []
    for name in variants:
        read = {r["id"]: r[name] for r in relooked if name in r}
        labelled = [(outcome(by_id[i]) == "right", p) for i, p in read.items() if outcome(by_id[i]) != "refused"]
        auc = roc_auc([right for right, _ in labelled], [p for _, p in labelled])
        results = [outcome({**row, "verification": read.get(row["id"], row.get("verification"))}, *default)
                   for row in rows]
        right = sum(o == "right" for o in results)
        refused = sum(o == "refused" for o, row in zip(results, rows, strict=True) if row["unanswerable"])
        wrong = sum(o == "wrong" for o in results)
        lines.append(f"{name}: {len(read)} answers re-read, AUROC {auc if auc is None else round(auc, 3)}; "
                     f"at {default}: right {right}, unanswerable refused {refused}, wrong {wrong}, "
                     f"score {right + refused - 2 * wrong}")
    return lines


def refitted(rows: Sequence[dict], relooked: Sequence[dict], variants: Sequence[str]) -> list[str]:  # type: ignore[type-arg]
    """Per variant: the one probability refitted with its P(yes) in place of the stored one, five-fold
    cross-validated on ``rows`` against the stored signals refitted the same way."""
    read = {r["id"]: r for r in relooked}
    baseline = cross_validated(rows)
    lines = []
    for name in variants:
        swapped = [{**row, "verification": read.get(row["id"], {}).get(name, row.get("verification"))} for row in rows]
        f = figures(swapped, cross_validated(swapped), baseline)
        lines.append(f"{name}, one probability refitted (cross-validated): right {f['right']}, unanswerable refused "
                     f"{f['unanswerable_refused']}, wrong {f['wrong']} of {f['answered']}, score {f['score']} "
                     f"against {f['baseline_score']} (higher in {f['p_better']:.0%} of resamples)")
    return lines


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - runs the local model for minutes
    from rag import NewsRAG, Settings

    parser = argparse.ArgumentParser(prog="python -m eval.bench.relook", description=__doc__.split("\n")[0])
    parser.add_argument("run", help="thresholds-off (keep-all) `rag bench news` results files, comma-separated")
    parser.add_argument("out", type=Path, help="per-answer P(yes) of each variant (JSON Lines; resumed)")
    parser.add_argument("--variant", action="append", choices=sorted([*VARIANTS, CONTINUED]), help="default: all")
    parser.add_argument("--index", type=Path, default=Path("bench-work/news-index-2000"),
                        help="the index the run was made on (`rag bench news --work DIR`: DIR/news-index-2000)")
    args = parser.parse_args(argv)
    names = args.variant or list(VARIANTS)
    rows = stored_rows([Path(p) for p in args.run.split(",")])
    questions = {item.id: item.question for item in load_dataset(NEWS_DEV)}
    engine = NewsRAG(Settings(data_dir=args.index, llm="local", chroma_url=None))
    reader = engine.query_engine()
    done = merge_lines(args.out.read_text(encoding="utf-8").splitlines()) if args.out.exists() else {}
    with args.out.open("a", encoding="utf-8") as out:
        for row in rows:
            missing = [name for name in names if name not in done.get(row["id"], {})]
            if not missing or row.get("verification") is None or not row.get("quotes"):
                continue
            question = questions[row["id"]]
            sentences = reader.shown_sentences(question)
            picks = picks_of(row["quotes"], sentences, row.get("cited"))
            if not picks:
                print(f"{row['id']}: its quotes are not among the sentences found now; skipped", file=sys.stderr)
                continue
            articles = dict(reader.article_texts(list(dict.fromkeys(p.source.hit.doc_id for p in picks))))  # type: ignore[misc]
            result = {"id": row["id"], "stored": row["verification"]}
            for name in missing:
                if name == CONTINUED:
                    result[name] = continued_look(reader, question, picks, row["short"].strip())
                    continue
                passage = VARIANTS[name](picks, articles, question, reader.scorer)
                result[name] = reader.second_look(question, passage)
            out.write(json.dumps(result) + "\n")
            out.flush()
            print(f"{row['id']}: " + ", ".join(f"{n} {result[n]:.3f}" for n in missing), file=sys.stderr)
    relooked = list(merge_lines(args.out.read_text(encoding="utf-8").splitlines()).values())
    default = (engine.settings.min_confidence, engine.settings.min_verification, engine.settings.min_short_confidence)
    print("\n".join(summary(rows, relooked, ["stored", *names], default)))
    print("\n".join(refitted(rows, relooked, names)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
