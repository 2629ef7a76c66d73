"""A sub-question experiment: a question that asks two things, answered one part at a time (issue 13).

Two-part questions are news_dev's weakest kind: the evidence step picks the sentences of one part and
the small model writes the other from nowhere, or leaves it out. Asked for both parts in its short line,
it invents the second (measured, not adopted: ``rag.prompts``). This measures the other design before
any engine code is written for it: the model first says whether the question asks one thing or two
(a grammar allows ``one``, or ``two`` and two standalone questions); each part is then answered by the
engine on its own (the passages retrieved for the whole question, then its own excerpts, choice,
short line and second look, every answer kept), and the
parts are put together under the default thresholds:

* ``any``: the answered parts are shown (a part refused is left out), refused when no part is answered;
* ``all``: shown only when every part is answered, else refused (no half answers).

A question answered in one piece keeps its stored row (the engine is deterministic for a given index),
so the outcome over a whole half is the stored keep-all rows with the split questions replaced.

Usage: ``python -m eval.bench.subquestions OUT.jsonl [--half tune] [--limit N] [--work DIR]`` (resumes OUT), then the
comparison against the stored rows at the default thresholds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from eval.bench.news import ARCHIVE_ARTICLES, NEWS_DEV, _below, _p_better, _points, outcome, split

RESULTS = Path(__file__).parent / "results" / "news"
STORED = {
    "tune": ["tune_local_thresholds_off_chunk_offsets.json", "tune_local_new_questions_keep_all.json",
             "tune_local_new80_keep_all.json"],
    "report": ["report_local_first70_keep_all.json", "report_local_new_questions_keep_all.json",
               "report_local_new80_keep_all.json"],
}
DEFAULT = (0.0, 0.6, 0.65)  # the engine's default thresholds: confidence, second look, short answer

SPLIT_SYSTEM = ("You split a question into the questions it asks. If it asks for one thing, reply: one. "
                "If it asks for two things, reply: two, then each question on its own line, each complete "
                "on its own (repeat the names it needs).\n\n"
                "Question: Which club did the striker join in 2019, and how much did it pay for him?\n"
                "two\nWhich club did the striker join in 2019?\nHow much did the club pay for the striker in 2019?\n\n"
                "Question: Where did the president of the company that built the bridge grow up?\none")
SPLIT_GRAMMAR = 'root ::= "one" | "two\\n" q "\\n" q\nq ::= [^\\n]+\n'


def parse_split(reply: str, question: str) -> list[str]:
    """``"two\\nA?\\nB?"`` -> [A?, B?]; anything else (``one``, a malformed reply) -> [question]."""
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if len(lines) == 3 and lines[0].lower() == "two" and all(len(line) > 8 for line in lines[1:]):
        return lines[1:]
    return [question]


def split_question(chat, question: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The model's parts of ``question`` (greedy, under ``SPLIT_GRAMMAR``)."""
    messages = [{"role": "system", "content": SPLIT_SYSTEM}, {"role": "user", "content": question.strip()}]
    with contextlib.closing(chat.stream(messages, 120, 0.0, grammar=SPLIT_GRAMMAR)) as deltas:
        return parse_split("".join(deltas), question)


def part_refused(row: dict, thresholds: Sequence[float] = DEFAULT) -> bool:  # type: ignore[type-arg]
    """A part's answer refused at ``thresholds`` (the checks ``outcome`` makes)."""
    confidence, verification, short = thresholds
    return bool(row["refused"] or _below(row.get("confidence"), confidence)
                or _below(row.get("verification"), verification)
                or _below(row.get("short_confidence"), short) or row.get("short_gap"))


def combined(item: dict, parts: Sequence[dict], mode: str, thresholds: Sequence[float] = DEFAULT) -> dict:  # type: ignore[type-arg]
    """The question's row from its parts' rows: text and citations of the answered parts (``mode`` any/all)."""
    from eval import metrics

    answered = [p for p in parts if not part_refused(p, thresholds)]
    refused = not answered or (mode == "all" and len(answered) < len(parts))
    text = " ".join(p["text"] for p in answered) if not refused else ""
    cited = {c for p in answered for c in p["cited"]} if not refused else set()
    facts = bool(item["must"]) and not refused and metrics.must_recall(text, list(item["must"])) == 1.0
    return {"id": item["id"], "unanswerable": item["unanswerable"], "refused": refused, "facts": facts,
            "gold_cited": bool(cited & set(item["sources"])), "text": text}


def stored(half: str) -> dict[str, dict]:  # type: ignore[type-arg]
    from eval.bench.calibration import stored_rows

    return {row["id"]: row for row in stored_rows([RESULTS / name for name in STORED[half]])}


def answer_parts(out: Path, half: str, limit: int | None, work: Path) -> None:
    """Split every question of ``half``; answer the parts of those split (every answer kept)."""
    from rag import NewsRAG, Settings

    from eval.bench.answer import _timed
    from eval.bench.news import score_row
    from eval.dataset import load_dataset

    done = {json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()} if out.exists() else set()
    items = load_dataset(NEWS_DEV)
    items = split(items, half, [item.unanswerable for item in items])[:limit]
    off = {"min_confidence": 0.0, "min_verification": 0.0, "extractive_min_confidence": 0.0,
           "min_short_confidence": 0.0, "check_short_answer": False, "skip_second_look_above": None,
           "min_answer_probability": None}
    engine = NewsRAG(Settings(data_dir=work / f"news-index-{ARCHIVE_ARTICLES}", chroma_url=None, **off))
    query_engine = engine.query_engine()
    for index, item in enumerate(items):
        if item.id in done:
            continue
        parts = split_question(query_engine.chat, item.question)
        rows = [score_row(item, _timed(answer_part(query_engine, part, item.question)))
                for part in parts] if len(parts) > 1 else []
        with out.open("a", encoding="utf-8") as sink:
            sink.write(json.dumps({"id": item.id, "parts": parts, "rows": rows}) + "\n")
        print(f"{index + 1}/{len(items)} {item.id}: {len(parts)} part(s) {parts if len(parts) > 1 else ''}",
              file=sys.stderr, flush=True)


def answer_part(query_engine, part: str, question: str):  # type: ignore[no-untyped-def]
    """``part`` answered from the passages retrieved for the whole ``question``: the small model's parts
    do not always stand alone ("What was the vote?"), so the articles are found by the question and the
    sentences, the choice and the answer by the part."""
    retrieve = query_engine.retrieve_hits
    object.__setattr__(query_engine, "retrieve_hits", lambda _part: retrieve(question))
    try:
        yield from query_engine.stream(part)
    finally:
        object.__setattr__(query_engine, "retrieve_hits", retrieve)


def compare(out: Path, half: str) -> dict[str, object]:
    """Outcomes at the default thresholds: the stored rows, and with the split questions answered by parts.
    Prints each question whose outcome changed."""
    items = {json.loads(line)["id"]: json.loads(line) for line in NEWS_DEV.read_text(encoding="utf-8").splitlines()}
    base = stored(half)
    runs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    two = {r["id"] for r in runs if len(items[r["id"]]["must"]) >= 2}
    split_ids = {r["id"] for r in runs if len(r["parts"]) > 1}
    summary: dict[str, object] = {"questions": len(runs), "two_part": len(two), "two_part_split": len(split_ids & two),
                                  "others_split": len(split_ids - two)}
    for mode in ("any", "all"):
        gains, counts = [], {"base": [0, 0, 0], "parts": [0, 0, 0]}
        for run in runs:
            old = base[run["id"]]
            new = combined(items[run["id"]], run["rows"], mode) if run["rows"] else old
            before, after = outcome(old, *DEFAULT), outcome(new, *DEFAULT)
            for key, result in (("base", before), ("parts", after)):
                counts[key][("right", "refused", "wrong").index(result)] += 1
            gains.append(_points(new, after) - _points(old, before))
            if before != after:
                print(f"  {mode} {run['id']} {before} -> {after}: {run['parts']}")
        summary[mode] = {"right_refused_wrong": counts["parts"], "before": counts["base"], "gain": sum(gains),
                         "p_better": _p_better(gains)}
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--half", default="tune", choices=("tune", "report"))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--work", type=Path, default=None,
                        help="where `rag bench news` built its index [default: <data dir>/bench]")
    parser.add_argument("--compare-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.compare_only:
        from rag import Settings

        answer_parts(args.out, args.half, args.limit, args.work or Settings().data_dir / "bench")
    print(json.dumps(compare(args.out, args.half), indent=1))


if __name__ == "__main__":
    main()
