"""The news development set (issue 13): an archive of CNN/DailyMail articles and questions written over it.

- ``write_archive``: the first ``n`` articles of HaluEval's CNN/DailyMail file, one ``cnn_NNNNN.jsonl``
  file per article, so a citation names its article and ``sources`` in the dataset can name it too.
- ``Checkpoint``: each scored answer is appended to a file in the index folder as it comes, with a
  progress line on stderr, so a stopped run resumes instead of starting its hour again.
- ``split``: the questions divided into a tuning half and a report half (every other answerable and
  every other unanswerable question, in file order), so thresholds are chosen on one and reported on
  the other.
- ``rescore``: a stored run scored again against the dataset's sources as they are now (a reader's
  audit adds the other articles that state an answer: ``news_dev_reviewed.jsonl``), without answering
  anything again.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal, TypeVar

from rag.calibration import ANSWER_WEIGHTS, TUNED_MIN_CONFIRMATION, AnswerWeights, answer_probability
from rag.evidence import skips_second_look
from rag.languages import affirmation

from eval.bench.corpus import write_files
from eval.halueval import load_items

REPO = Path(__file__).resolve().parents[2]
NEWS_DEV = REPO / "eval" / "datasets" / "news_dev.jsonl"
ARCHIVE_ARTICLES = 2000  # lines 0-1999 of the HaluEval file; 5000-6999 are reserved for held-out checks
Half = Literal["tune", "report", "all"]
HALVES: tuple[str, ...] = ("tune", "report", "all")

T = TypeVar("T")


def archive_file(index: int) -> str:
    """The file name article ``index`` (its 0-based line in the HaluEval file) is indexed under."""
    return f"cnn_{index:05d}.jsonl"


def write_archive(work: Path, n: int = ARCHIVE_ARTICLES) -> Path:
    """The first ``n`` CNN/DailyMail articles as one-article ``.jsonl`` files under ``<work>/news-<n>/``."""
    rows = load_items("summarization", n)
    records = [{"id": f"cnn{i:05d}", "title": "", "text": row["document"], "source": "CNN/DailyMail"}
               for i, row in enumerate(rows)]
    folder = write_files(work / f"news-{len(rows)}", "cnn", records, per_file=1)
    return folder


def split(items: Sequence[T], half: Half, unanswerable: Sequence[bool]) -> list[T]:
    """Every other question of each kind (answerable, unanswerable) in file order: the first of each
    pair is for tuning, the second for the report, so both halves hold the same mix."""
    if half not in HALVES:
        raise ValueError(f"unknown half {half!r}; choose one of {', '.join(HALVES)}")
    if half == "all":
        return list(items)
    seen = {True: 0, False: 0}
    chosen = []
    for item, kind in zip(items, unanswerable):
        position = seen[kind]
        seen[kind] += 1
        if (position % 2 == 0) == (half == "tune"):
            chosen.append(item)
    return chosen


# --- the run: ours beside the naive pipeline, and the threshold sweep ----------------------------------
def run(work: Path, half: Half = "tune", llm: str = "local", naive: bool = True, n: int = ARCHIVE_ARTICLES,
        dataset: Path = NEWS_DEV, limit: int | None = None, keep_all: bool | None = None) -> dict[str, object]:
    """Answer one half of news_dev on the archive with our pipeline (and the naive one, alternating
    question by question) and summarise quality, latency and the refusal threshold sweep.

    ``keep_all``: every answer is written and given its second look whatever its confidence, and the
    thresholds are applied afterwards (``sweep``); by default on the tuning half only. On the report
    half it lets a rule chosen on the tuning half be reported from the stored rows, without answering
    again (its first-token times are then those of answers always written)."""
    from eval.bench.server import in_child

    folder = write_archive(work, n)
    keep = half == "tune" if keep_all is None else keep_all
    return in_child(_run, str(folder), str(work / f"news-index-{n}"), half, llm, naive, str(dataset), limit, keep)


def _run(folder: str, data_dir: str, half: Half, llm: str, naive: bool, dataset: str,
         limit: int | None, keep_all: bool) -> dict[str, object]:
    from rag import NewsRAG, Settings, build_chat_client

    from eval.bench import machine
    from eval.bench.answer import NaivePipeline, _timed
    from eval.dataset import load_dataset

    items = load_dataset(Path(dataset))
    items = split(items, half, [item.unanswerable for item in items])[:limit]
    # On the tuning half the threshold is applied afterwards (``sweep``): answers are kept whatever their
    # confidence. The report half runs as users get it, with the configured thresholds.
    thresholds = ({"min_confidence": 0.0, "min_verification": 0.0, "extractive_min_confidence": 0.0,
                   "min_short_confidence": 0.0, "check_short_answer": False, "skip_second_look_above": None,
                   "min_answer_probability": 0.0, "min_confirmation": 0.0}
                  if keep_all else {})  # every answer gets its second look and likelihoods, so the sweep can read them
    settings = Settings(data_dir=Path(data_dir), llm=llm, chroma_url=None, answer_cache=0, **thresholds)
    engine = NewsRAG(settings)
    engine.ingest([Path(folder)])
    recall = retrieval_recall(engine, items)
    facts_read = facts_within_reach(engine, items)
    pipelines = {"ours": lambda item: engine.stream(item.question)}
    if naive and llm != "extractive":
        documents = [(path.name, json_text(path)) for path in sorted(Path(folder).glob("*.jsonl"))]
        pipeline = NaivePipeline.from_texts(documents, engine.embed_model, build_chat_client(settings),
                                            settings.max_answer_tokens, persist_dir=Path(data_dir) / "naive")
        pipelines["naive"] = lambda item: pipeline.stream({"question": item.question})
    for stream in pipelines.values():  # warm-up: model load, first prompt evaluation
        _timed(stream(items[0]))
    load_before = machine.load()
    checkpoint = Checkpoint(Path(data_dir) / f"progress-{half}-{llm}-{run_key(settings, dataset)}.jsonl")
    for index, item in enumerate(items):
        for name in (list(pipelines) if index % 2 == 0 else list(reversed(pipelines))):
            row = checkpoint.get(name, item.id)
            if row is None:
                row = checkpoint.add(name, score_row(item, _timed(pipelines[name](item))))
            print(f"news {half}: {index + 1}/{len(items)} {item.id} {name}: {_verdict(row)}, "
                  f"{row['total_s']} s", file=sys.stderr, flush=True)
    rows = {name: [checkpoint.get(name, item.id) for item in items] for name in pipelines}
    used = thresholds_of(settings, llm)
    out: dict[str, object] = {"half": half, "questions": len(items), "dataset": Path(dataset).name, "backend": llm,
                              "min_confidence": used[0], "min_verification": used[1],
                              "min_short_confidence": used[2],
                              "min_answer_probability": settings.min_answer_probability,
                              "skip_second_look_above": settings.skip_second_look_above, "articles": len(
        list(Path(folder).glob("*.jsonl"))), "load_before": load_before, "load_after": machine.load()}
    for name, results in rows.items():
        out[name] = summarise(results)
    out["sweep"] = sweep(rows["ours"])
    out["kept_all"] = keep_all
    if keep_all:  # only there are answers kept whatever their confidence, so the sweep is complete
        users = Settings(llm=llm)  # what users get, not this run's zeros
        confidence, verification, short = thresholds_of(users, llm)
        configured = (confidence, verification or 0.0, short or 0.0)
        if half == "tune":  # thresholds are chosen there only
            out["threshold_choice"] = threshold_choice(rows["ours"], configured)
        out["skip_second_look"] = skip_table(rows["ours"], configured)
        # As in the engine (``reads_every_signal``): the one probability decides only where the second look is made.
        rule = users.min_answer_probability if verification is not None else None
        out["one_probability"] = one_probability_figures(rows["ours"], rule, configured)
    out["retrieval"] = recall
    out["facts_read"] = facts_read
    return with_kinds(out, items)


def thresholds_of(settings, llm: str) -> tuple[float, float | None, float | None]:  # type: ignore[no-untyped-def]
    """The refusal thresholds ``llm`` answers under: (confidence, second look, short answer's probability),
    None for a signal that backend does not measure."""
    if llm == "extractive":
        return settings.extractive_min_confidence, None, None
    return settings.min_confidence, (settings.min_verification if settings.verify_evidence and llm == "local"
                                     else None), settings.min_short_confidence


class Checkpoint:
    """Scored rows appended as they come, so a stopped run (an hour on two cores) resumes where it was.

    The file name carries ``run_key``: a run with other settings or another dataset starts afresh."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[tuple[str, str], dict[str, object]] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:  # the last line of a killed run: that question runs again
                    continue
                self.rows[(record["pipeline"], record["row"]["id"])] = record["row"]

    def get(self, pipeline: str, item_id: str) -> dict[str, object] | None:
        return self.rows.get((pipeline, item_id))

    def add(self, pipeline: str, row: dict[str, object]) -> dict[str, object]:
        self.rows[(pipeline, str(row["id"]))] = row
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"pipeline": pipeline, "row": row}) + "\n")
        return row


def run_key(settings, dataset: str, code: Path | None = None) -> str:  # type: ignore[no-untyped-def]
    """Digest of what decides the answers: every setting but where the index lives, the prompts and the
    engine's code (a run made with other ones must not be resumed as if it were this one), and the
    questions."""
    from rag import prompts

    fields = settings.model_dump(mode="json", exclude={"data_dir"})
    wording = {name: value for name, value in vars(prompts).items() if name.isupper()}
    sources = sorted((code or Path(prompts.__file__).parent).glob("*.py"))
    blob = (json.dumps([fields, wording], sort_keys=True, default=str)
            + "".join(path.read_text(encoding="utf-8") for path in sources)
            + Path(dataset).read_text(encoding="utf-8"))
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _verdict(row: dict) -> str:  # type: ignore[type-arg]
    return "refused" if row["refused"] else ("facts right" if row["facts"] else "facts missing")


def json_text(path: Path) -> str:

    return str(json.loads(path.read_text(encoding="utf-8").splitlines()[0])["text"])


def score_row(item, timed: dict) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """One answer, scored the eval's way: every ``must`` fact present; a gold article cited."""
    from eval import metrics

    answer = timed.pop("answer", None)
    cited = list(dict.fromkeys(c.source for c in getattr(answer, "citations", [])))
    read = [c for c in getattr(answer, "hits", [])]
    facts = bool(item.must) and metrics.must_recall(timed["text"], list(item.must)) == 1.0
    return {"id": item.id, "unanswerable": item.unanswerable, "refused": timed["refused"], "facts": facts,
            "gold_cited": bool(set(cited) & set(item.sources)), "cited": cited,
            "gold_retrieved": bool({h.source_name for h in read} & set(item.sources)),
            "confidence": getattr(answer, "confidence", None),
            "verification": getattr(answer, "verification", None),
            "short": getattr(answer, "short", None), "short_gap": getattr(answer, "short_gap", ""),
            "short_confidence": getattr(answer, "short_confidence", None),
            "evidence_lp": getattr(answer, "evidence_likelihood", None),
            "first_token_s": timed["first_token_s"],
            "total_s": timed["total_s"], "prompt_tokens": timed["prompt_tokens"], "text": timed["text"],
            "quotes": [c.quote for c in getattr(answer, "citations", [])]}


def outcome(row: dict, threshold: float = 0.0, verification: float = 0.0,  # type: ignore[type-arg]
            short: float = 0.0, skip_above: float | None = None) -> str:
    """right (answerable: facts + gold cited), refused, wrong (answered, but wrong or unanswerable),
    had the answer been refused below these confidence, second-look and short-answer probability
    thresholds, or by the short-answer check (recorded on the tuning half, where it does not refuse).
    ``skip_above``: the second look is not made for a short answer written at least this surely."""
    if skips_second_look(row.get("short_confidence"), skip_above):
        verification = 0.0
    refused = (row["refused"] or _below(row.get("confidence"), threshold)
               or _below(row.get("verification"), verification) or _below(row.get("short_confidence"), short)
               or bool(row.get("short_gap")))
    if row["unanswerable"]:
        return "refused" if refused else "wrong"
    if refused:
        return "refused"
    return "right" if row["facts"] and row["gold_cited"] else "wrong"


def outcome_at_probability(row: dict, threshold: float,  # type: ignore[type-arg]
                           weights: AnswerWeights = ANSWER_WEIGHTS,
                           confirmation: float = TUNED_MIN_CONFIRMATION) -> str:
    """``outcome`` had the answer been refused below ``threshold`` of the one probability
    (``rag.calibration``), or by what refuses it whatever the thresholds: no citation, a short line
    that does not answer. A yes to a yes/no question is decided on its second look (``confirmation``)."""
    if affirmation(row.get("short") or ""):
        return "refused" if row["refused"] or _below(row.get("verification"), confirmation) else outcome(row)
    probability = answer_probability(row.get("confidence"), row.get("verification"), row.get("short_confidence"),
                                     weights, evidence=row.get("evidence_lp"), prior=row.get("prior_lp"))
    return "refused" if refused_anyway(row) or probability < threshold else outcome(row)


def refused_anyway(row: dict) -> bool:  # type: ignore[type-arg]
    """Refused whatever the thresholds: no citation, or a short line that does not answer."""
    return bool(row["refused"] or row.get("short_gap"))


def one_probability_figures(rows: list[dict], threshold: float | None,  # type: ignore[type-arg]
                            configured: Thresholds) -> dict[str, object] | None:
    """The rows with every answer kept, scored under the refusal users get by default (one probability at
    ``threshold``; None when it is turned off), beside the three separate thresholds ``configured``."""
    if threshold is None:
        return None
    from eval.bench.calibration import figures  # it imports this module

    return {"threshold": threshold, "configured": list(configured),
            **figures(rows, [outcome_at_probability(r, threshold) for r in rows],
                      [outcome(r, *configured) for r in rows])}


KINDS = ("one fact", "two or more facts", "near-miss")


def kind_of(unanswerable: bool, facts_asked: int) -> str:
    """A question's kind: the reader fails differently on each (holdouts 1-4 at the default: one fact
    right 55-65%, with 1-4 wrong of 44-49 answers; two or more facts right 20-40%, with 1-5 wrong of
    10-21; near-misses refused 86-100%)."""
    if unanswerable:
        return "near-miss"
    return "two or more facts" if facts_asked >= 2 else "one fact"


def kinds_of(items: Sequence) -> dict[str, str]:  # type: ignore[type-arg]
    """id -> ``kind_of`` for a dataset's items (a fact is one ``must`` entry)."""
    return {item.id: kind_of(item.unanswerable, len(item.must)) for item in items}


def by_kind(rows: Sequence[dict], outcomes: Sequence[str],  # type: ignore[type-arg]
            kinds: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """right / refused / wrong counted per ``KINDS`` entry (kinds with no question left out)."""
    counts = {kind: {"questions": 0, "right": 0, "refused": 0, "wrong": 0} for kind in KINDS}
    for row, result in zip(rows, outcomes, strict=True):
        counts[kinds[row["id"]]]["questions"] += 1
        counts[kinds[row["id"]]][result] += 1
    return {kind: found for kind, found in counts.items() if found["questions"]}


def users_outcomes(figures: dict) -> list[str] | None:  # type: ignore[type-arg]
    """Our rows' outcomes as users get them: under the one probability where a keep-all run scored it;
    as answered by a run without --keep-all (refused at the settings of its day); None for a keep-all
    run without that rule, whose rows hold answers users would not all have seen (the tuning half kept
    every answer before runs said so)."""
    rows = figures["ours"]["per_question"]
    rule = figures.get("one_probability")
    if rule:
        return [outcome_at_probability(r, rule["threshold"]) for r in rows]
    if figures.get("kept_all", figures.get("half") == "tune"):
        return None
    return [outcome(r) for r in rows]


def with_kinds(figures: dict, items: Sequence) -> dict:  # type: ignore[type-arg]
    """``figures`` with ``by_kind`` where the outcomes users get are known (``users_outcomes``)."""
    outcomes = users_outcomes(figures)
    return {**figures, "by_kind": by_kind(figures["ours"]["per_question"], outcomes, kinds_of(items))} if outcomes else figures


def summarise(rows: list[dict]) -> dict[str, object]:  # type: ignore[type-arg]
    from eval.metrics import percentile

    answerable = [r for r in rows if not r["unanswerable"]]
    unanswerable = [r for r in rows if r["unanswerable"]]
    answered = [r for r in rows if not r["refused"]]
    tokens = [r["prompt_tokens"] for r in rows if r["prompt_tokens"]]
    return {
        "facts": sum(r["facts"] for r in answerable), "answerable": len(answerable),
        "right_and_gold_cited": sum(outcome(r) == "right" for r in answerable),
        "false_refusals": sum(outcome(r) == "refused" for r in answerable),
        "unanswerable_refused": sum(outcome(r) == "refused" for r in unanswerable), "unanswerable": len(unanswerable),
        "wrong_but_cited": sum(outcome(r) == "wrong" for r in answered),
        "gold_retrieved": sum(r["gold_retrieved"] for r in answerable),
        "ttft_p50_s": percentile([r["first_token_s"] for r in rows], 50),
        "total_p50_s": percentile([r["total_s"] for r in rows], 50),
        "prompt_tokens_mean": round(sum(tokens) / len(tokens), 1) if tokens else 0,
        "per_question": rows,
    }


Locate = Callable[[str], set[str]]  # a quoted sentence -> the archive articles that hold it


def quote_locator(archive: Mapping[str, str]) -> Locate:
    """Finds a quote's articles by its words, spacing ignored (rows stored before ``cited`` name only quotes)."""
    flat = {name: _spaced(text) for name, text in archive.items()}

    def locate(quote: str) -> set[str]:
        wanted = _spaced(quote)
        return {name for name, text in flat.items() if wanted in text}

    return locate


def _spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def rescore_row(row: dict, sources: Sequence[str], locate: Locate) -> dict:  # type: ignore[type-arg]
    """``row`` with ``gold_cited`` against ``sources``. A row that names its cited articles is scored by
    them. An older row has only its quotes: a quote counts as citing a source when every article holding
    it is one (a sentence two articles share could have been cited from the other), and a row already
    right stays right (sources are only ever added)."""
    if "cited" in row:
        return {**row, "gold_cited": bool(set(row["cited"]) & set(sources))}
    located = [locate(quote) for quote in row.get("quotes", [])]
    unambiguous = any(found and found <= set(sources) for found in located)
    return {**row, "gold_cited": bool(row.get("gold_cited") or unambiguous)}


def rescore(figures: dict, items: Sequence, locate: Locate) -> dict:  # type: ignore[type-arg]
    """A stored run's figures scored again against ``items``' sources: every pipeline's summary, the
    sweep and (tuning half) the threshold choice against the thresholds it was compared with. Retrieval
    recall and ``gold_retrieved`` stay as measured: they need the hits, which are not stored."""
    sources = {item.id: item.sources for item in items}
    unknown = [row["id"] for row in figures["ours"]["per_question"] if row["id"] not in sources]
    if unknown:
        raise ValueError(f"{len(unknown)} stored questions ({', '.join(unknown[:3])}...) are not in the dataset "
                         "given: pass the questions the run answered with --dataset")
    out = dict(figures)
    for name in ("ours", "naive"):
        if name in figures:
            rows = [rescore_row(row, sources.get(row["id"], ()), locate) for row in figures[name]["per_question"]]
            out[name] = {**figures[name], **summarise(rows)}
    out["sweep"] = _sweep_like(out["ours"]["per_question"], figures.get("sweep", []))
    if figures.get("threshold_choice"):
        stored = tuple(figures["threshold_choice"]["configured"])
        configured: Thresholds = (stored[0], stored[1], stored[2] if len(stored) > 2 else 0.0)
        choice = threshold_choice(out["ours"]["per_question"], configured, table=out["sweep"])
        out["threshold_choice"] = {**choice, "configured": list(stored)}
        if "skip_second_look" in figures:
            out["skip_second_look"] = skip_table(out["ours"]["per_question"], configured)
    if figures.get("one_probability"):
        stored_rule = figures["one_probability"]
        out["one_probability"] = one_probability_figures(out["ours"]["per_question"], stored_rule["threshold"],
                                                         tuple(stored_rule["configured"]))  # type: ignore[arg-type]
    return with_kinds(out, items)


def _sweep_like(rows: list[dict], stored: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    """``sweep`` over the thresholds a stored sweep tried (older runs swept fewer), in its format."""
    grid = [sorted({float(entry.get(key, 0.0)) for entry in stored}) or [0.0]
            for key in ("threshold", "verification", "short")]
    table = sweep(rows, *grid)
    if stored and "short" not in stored[0]:
        table = [{key: value for key, value in entry.items() if key != "short"} for entry in table]
    return table


def _below(signal: float | None, threshold: float) -> bool:
    return signal is not None and signal < threshold


CONFIDENCE_STEPS = (0.0, 0.25)
VERIFICATION_STEPS = tuple(t / 20 for t in range(0, 19))
SHORT_STEPS = tuple(t / 20 for t in range(0, 19))
Thresholds = tuple[float, float, float]  # the choice's confidence, the second look's P(yes), the short answer's probability


def sweep(rows: list[dict], confidences: Sequence[float] = CONFIDENCE_STEPS,  # type: ignore[type-arg]
          verifications: Sequence[float] = VERIFICATION_STEPS,
          shorts: Sequence[float] = SHORT_STEPS) -> list[dict]:  # type: ignore[type-arg]
    """For each triple of thresholds (the choice's confidence, the second look's P(yes), the short
    answer's probability): right, refused unanswerable, wrong answers, and ``score`` = right + refused
    unanswerable - 2 x wrong, the figure the thresholds are chosen by on the tuning half (a wrong
    answer costs more than a refusal)."""
    table = []
    for threshold in confidences:
        for verification in verifications:
            for short in shorts:
                outcomes = [(r["unanswerable"], outcome(r, threshold, verification, short)) for r in rows]
                answered = sum(o != "refused" for _, o in outcomes)
                wrong = sum(o == "wrong" for _, o in outcomes)
                right = sum(o == "right" for u, o in outcomes if not u)
                refused = sum(o == "refused" for u, o in outcomes if u)
                table.append({"threshold": threshold, "verification": verification, "short": short,
                              "right": right, "unanswerable_refused": refused,
                              "false_refusals": sum(o == "refused" for u, o in outcomes if not u),
                              "wrong": wrong, "wrong_share": round(wrong / answered, 3) if answered else 0.0,
                              "score": sum(_score(r, threshold, verification, short) for r in rows)})
    return table


SWEEP_SHOWN = 15  # rows of the sweep the markdown shows, best first (the JSON has them all)
SWITCH_CONFIDENCE = 0.9  # move the default only when the tuning data is this sure the new pair is better


def threshold_choice(rows: list[dict], configured: Thresholds, draws: int = 2000,  # type: ignore[type-arg]
                     seed: int = 0, table: list[dict] | None = None) -> dict[str, object]:  # type: ignore[type-arg]
    """The sweep's best thresholds against the configured ones, and how sure these questions are of it: the
    share of bootstrap resamples (questions drawn with replacement, both pairs scored on the same draw)
    in which the best pair scores higher. On ~100 questions the best pair often wins by noise: 0.4 / 0.4
    beat 0.25 / 0.8 by 46 to 40 on the tuning data, yet in only 71% of resamples, and lost 8 to 18 on
    the report half. So the default moves only at ``SWITCH_CONFIDENCE``. ``table``: the sweep to choose
    from (default: ``sweep(rows)``; a stored run's own grid when it is re-scored)."""
    best = max(table or sweep(rows), key=lambda r: r["score"])
    pair = (float(best["threshold"]), float(best["verification"]), float(best.get("short", 0.0)))
    configured_score = sum(_score(r, *configured) for r in rows)
    p_better = _p_better([_score(r, *pair) - _score(r, *configured) for r in rows], draws, seed)
    return {"best": pair, "best_score": best["score"], "configured": configured,
            "configured_score": configured_score, "p_better": round(p_better, 3),
            "switch": p_better >= SWITCH_CONFIDENCE}


def _p_better(gain: Sequence[int], draws: int = 2000, seed: int = 0) -> float:
    """Share of bootstrap resamples of the questions (drawn with replacement) whose summed score gain is
    positive: ties are not wins."""
    draw = random.Random(seed)
    wins = sum(sum(gain[draw.randrange(len(gain))] for _ in gain) > 0 for _ in range(draws)) if gain else 0
    return wins / draws


SKIP_STEPS = (None, 0.8, 0.85, 0.9, 0.95)


def skip_table(rows: list[dict], configured: Thresholds, steps: Sequence[float | None] = SKIP_STEPS,  # type: ignore[type-arg]
               draws: int = 2000, seed: int = 0) -> list[dict]:  # type: ignore[type-arg]
    """At the configured thresholds, the second look skipped for short answers written at least this
    surely (``RAG_SKIP_SECOND_LOOK_ABOVE``): how many looks are saved, the outcomes, the score, and the
    share of bootstrap resamples in which it scores higher than always looking (ties are not wins)."""
    always = [_points(r, outcome(r, *configured)) for r in rows]
    table = []
    for step in steps:
        outcomes = [outcome(r, *configured, skip_above=step) for r in rows]
        points = [_points(r, o) for r, o in zip(rows, outcomes, strict=True)]
        table.append({"skip_above": step,
                      "looks_saved": sum(_looked(r, configured) and skips_second_look(r.get("short_confidence"), step)
                                         for r in rows),
                      "right": sum(o == "right" for o in outcomes),
                      "unanswerable_refused": sum(o == "refused" for r, o in zip(rows, outcomes, strict=True)
                                                  if r["unanswerable"]),
                      "wrong": sum(o == "wrong" for o in outcomes), "score": sum(points),
                      "p_better": round(_p_better([p - a for p, a in zip(points, always, strict=True)], draws, seed), 3)})
    return table


def _looked(row: dict, configured: Thresholds) -> bool:  # type: ignore[type-arg]
    """The answer reached the second look at these thresholds (no earlier step refused it)."""
    confidence, _, short = configured
    return row.get("verification") is not None and outcome(row, confidence, 0.0, short) != "refused"


def _score(row: dict, threshold: float, verification: float, short: float = 0.0,  # type: ignore[type-arg]
           skip_above: float | None = None) -> int:
    """One question's share of ``sweep``'s score: +1 right or refused unanswerable, -2 wrong."""
    return _points(row, outcome(row, threshold, verification, short, skip_above))


def _points(row: dict, result: str) -> int:  # type: ignore[type-arg]
    return -2 if result == "wrong" else int(result == "right" or (result == "refused" and row["unanswerable"]))


def markdown(figures: dict) -> str:  # type: ignore[type-arg]
    """The table the README quotes: ours beside the naive pipeline, then the threshold sweep."""
    rows = ["| pipeline | right, gold cited | facts stated | false refusals | unanswerable refused | wrong but cited "
            "| gold article read | first token p50 | total p50 | prompt tokens |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in ("ours", "naive"):
        if name not in figures:
            continue
        s = figures[name]
        a, u = s["answerable"], s["unanswerable"]
        answered = sum(not r["refused"] for r in s["per_question"])
        rows.append(f"| {name} | {s['right_and_gold_cited']}/{a} | {s['facts']}/{a} | {s['false_refusals']}/{a} | "
                    f"{s['unanswerable_refused']}/{u} | {s['wrong_but_cited']}/{answered} | {s['gold_retrieved']}/{a} | "
                    f"{_seconds(s['ttft_p50_s'])} | {_seconds(s['total_p50_s'])} | {s['prompt_tokens_mean']} |")
    sweep_rows = ["| confidence ≥ | second look ≥ | short answer ≥ | right | false refusals | unanswerable refused "
                  "| wrong (share of answers) | score |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    table = figures.get("sweep", [])
    for row in sorted(table, key=lambda r: -r.get("score", 0))[:SWEEP_SHOWN]:
        sweep_rows.append(f"| {row['threshold']:.2f} | {row.get('verification', 0):.2f} | {row.get('short', 0):.2f} "
                          f"| {row['right']} | {row['false_refusals']} | {row['unanswerable_refused']} | {row['wrong']} "
                          f"({row['wrong_share']:.1%}) | {row.get('score', '')} |")
    recall_rows = ["| search | " + " | ".join(next(iter(figures.get("retrieval", {"": {}}).values()))) + " |"]
    recall_rows.append("|---|" + "---:|" * (len(recall_rows[0].split("|")) - 3))
    for mode, values in figures.get("retrieval", {}).items():
        recall_rows.append(f"| {mode} | " + " | ".join(f"{v:.3f}" for v in values.values()) + " |")
    skipping = figures.get("skip_second_look_above")
    skip_note = f" (second look skipped at short answer >= {skipping})" if skipping is not None else ""
    return (f"news_dev, {figures['half']} half ({figures['questions']} questions), {figures['backend']} backend, "
            f"refusal thresholds: confidence {figures.get('min_confidence')}, second look "
            f"{figures.get('min_verification')}, short answer {figures.get('min_short_confidence')}{skip_note}, "
            f"{figures['articles']} articles; load {figures['load_before']} -> {figures['load_after']}\n\n"
            + "\n".join(rows) + f"\n\nThe threshold sweep, best {SWEEP_SHOWN} of {len(table)} by score:\n\n"
            + "\n".join(sweep_rows) + "\n\nGold article among the passages found:\n\n"
            + "\n".join(recall_rows) + _facts_read_line(figures.get("facts_read"))
            + _choice_line(figures.get("threshold_choice")) + _skip_lines(figures.get("skip_second_look"))
            + _probability_line(figures.get("one_probability")) + _kind_lines(figures.get("by_kind")))


def _probability_line(result: dict | None) -> str:  # type: ignore[type-arg]
    if not result:
        return ""
    return (f"\n\nUnder the default refusal, one probability >= {result['threshold']}: {result['right']}/"
            f"{result['answerable']} right and gold-cited, {result['unanswerable_refused']}/{result['unanswerable']} "
            f"near-misses refused, {result['wrong']} of {result['answered']} answers wrong: score {result['score']} "
            f"against {result['baseline_score']} at the three thresholds (higher in {result['p_better']:.0%} of "
            f"bootstrap resamples)")


def _kind_lines(kinds: dict | None) -> str:  # type: ignore[type-arg]
    if not kinds:
        return ""
    lines = ["\n\nBy kind of question, as users get it:\n", "| kind | questions | right | refused | wrong |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {kind} | {c['questions']} | {c['right']} | {c['refused']} | {c['wrong']} |" for kind, c in kinds.items()]
    return "\n".join(lines)


def _skip_lines(table: list[dict] | None) -> str:  # type: ignore[type-arg]
    if not table:
        return ""
    rows = ["| second look skipped at short answer ≥ | looks saved | right | unanswerable refused | wrong | score "
            "| beats always looking |", "|---:|---:|---:|---:|---:|---:|---:|"]
    rows += [f"| {'never' if r['skip_above'] is None else r['skip_above']} | {r['looks_saved']} | {r['right']} | "
             f"{r['unanswerable_refused']} | {r['wrong']} | {r['score']} | {r['p_better']:.0%} |" for r in table]
    return "\n\nAt the configured thresholds, the second look skipped for surely written short answers:\n\n" + "\n".join(rows)


def _facts_read_line(facts_read: dict[str, float] | None) -> str:
    if not facts_read:
        return ""
    return (f"\n\nEvery fact of the answer in the {facts_read['top_k']} passages found: {facts_read['passages']:.0%}; "
            f"in the excerpts the model reads of them: {facts_read['excerpts']:.0%}")


def _choice_line(choice: dict | None) -> str:  # type: ignore[type-arg]
    if not choice:
        return ""
    best, configured = ("/".join(f"{t:.2f}" for t in choice[key]) for key in ("best", "configured"))
    verdict = "move the default" if choice["switch"] else "keep the configured thresholds (too close to call)"
    return (f"\n\nBest thresholds {best} scores {choice['best_score']} against the configured "
            f"{configured}'s {choice['configured_score']}; it scores higher in {choice['p_better']:.0%} "
            f"of bootstrap resamples of these questions: {verdict}")


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


def retrieval_recall(engine, items, depths: Sequence[int] = (1, 4, 8)) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """Recall of a gold article among the first ``depths`` passages, per search mode, over the
    answerable ``items``: what the model can read at most (it reads ``RAG_TOP_K`` = 4 passages)."""
    answerable = [item for item in items if not item.unanswerable and item.sources]
    table: dict[str, dict[str, float]] = {}
    for mode in ("hybrid", "dense", "keyword"):
        found = {depth: 0 for depth in depths}
        for item in answerable:
            names = [hit.source_name for hit in engine.search(item.question, k=max(depths), mode=mode)]
            for depth in depths:
                found[depth] += bool(set(names[:depth]) & set(item.sources))
        table[mode] = {f"recall@{d}": round(found[d] / len(answerable), 3) for d in depths}
    return table


def facts_within_reach(engine, items) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Share of the answerable ``items`` whose every ``must`` fact occurs in the passages retrieved, and
    in the excerpts the answerer reads of them: an answer lost between the two was cut by the excerpt
    size, not missed by the search (this chose ``RAG_CONTEXT_SENTENCES`` on the tuning half)."""
    from eval import metrics

    answerable = [item for item in items if not item.unanswerable and item.must]
    reader = engine.query_engine()
    passages = excerpts = 0
    for item in answerable:
        hits = engine.search(item.question)
        passages += metrics.must_recall(" ".join(h.text for h in hits), list(item.must)) == 1.0
        read = " ".join(source.text for source in reader.excerpts(item.question, hits))
        excerpts += metrics.must_recall(read, list(item.must)) == 1.0
    count = max(len(answerable), 1)
    return {"top_k": engine.settings.top_k, "passages": round(passages / count, 3),
            "excerpts": round(excerpts / count, 3)}
