"""A whole dataset run: config -> index -> answers -> scores -> files -> threshold verdict."""

from __future__ import annotations

import difflib
import hashlib
import json
from datetime import datetime, timezone
from collections.abc import Callable, Sequence
from pathlib import Path

from rag import NewsRAG, Settings

from eval.config import EvalConfig
from eval.dataset import EvalItem, load_dataset, select
from eval.judges import build_judge
from eval import metrics
from eval.metrics import threshold_failures
from eval.report import OUTPUTS, write_outputs
from eval.runner import CHECKS_PER_CLAIM, EvalRun, Progress, run_eval

Status = Callable[[str], None]
EVAL_INDEX_MARK = ".rag-eval-index"  # in an index folder eval built: it may remove the articles there
CHECKPOINT = "results.partial.jsonl"  # results as they finish; a rerun into the same --out resumes from it


def run_dataset(config: EvalConfig, settings: Settings, progress: Progress | None = None,
                status: Status = lambda message: None) -> EvalRun:
    """Run ``config`` and write ``results.jsonl``, ``summary.json``, ``report.md`` and ``chart.png``.

    The returned summary holds ``threshold_failures``: the caller decides the exit code.
    """
    for name in OUTPUTS:  # an earlier run's files would read as this run's (a CI job posting OUT/report.md
        (config.out / name).unlink(missing_ok=True)  # after a failed run showed the last green one)
    items = select(load_dataset(config.dataset), config.max_items, config.seed)  # fail fast on a bad file
    engine = NewsRAG(eval_index_settings(settings, config))
    if config.corpus:
        _claim_index(engine, explicit=config.index_dir is not None)
        status(f"indexing {', '.join(str(p) for p in config.corpus)} into {engine.settings.data_dir}")
        _index_exactly(engine, config.corpus, status)
    elif not engine.documents():  # a mistyped --data-dir is a new, empty index: nothing to measure
        raise ValueError(f"the index in {engine.settings.data_dir} holds no articles: ingest the dataset's "
                         "articles into it (`rag ingest`), point --data-dir at the right one, or pass --corpus")
    indexed = {metrics.article_label(doc.source_name, doc.source) for doc in engine.documents()}
    gold = {source for item in items for source in item.sources}
    if missing := missing_sources(gold, indexed):  # before any question: a typo cost a whole run, or passed
        raise ValueError(unindexed_sources(items, missing, indexed))
    judge = build_judge(config.judge, settings)
    checkpoint = config.out / CHECKPOINT
    run = run_eval(items, engine, judge, progress=progress, checkpoint=checkpoint, status=status)
    run.summary["run"].update({
        "dataset": config.dataset.name, "max_items": config.max_items, "seed": config.seed,
        **provenance(config.dataset, settings),
        "model": next((r.model for r in run.results if r.model), ""),
        "index": str(engine.settings.data_dir),
    })
    run.summary["problems"] = run_problems(run)
    run.summary["thresholds"] = {"min": dict(config.minimums), "max": dict(config.maximums)}
    run.summary["threshold_failures"] = threshold_failures(run.summary["metrics"], config.minimums, config.maximums)
    write_outputs(run, config.out)
    checkpoint.unlink(missing_ok=True)  # results.jsonl now holds every result
    return run


def provenance(dataset: Path, settings: Settings) -> dict[str, object]:
    """What a CI artifact needs to say which run it is: when, on what machine and versions, the dataset's
    digest and every setting (secrets masked), as ``rag bench`` records for its figures."""
    from eval.bench import machine

    return {"finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "dataset_sha256": hashlib.sha256(dataset.read_bytes()).hexdigest(), "machine": machine.describe(),
            "settings": json.loads(settings.model_dump_json())}


def missing_sources(gold: set[str], indexed: set[str]) -> set[str]:
    """The gold sources (file names, or ``file#key`` for one article of a collection) no indexed article matches."""
    return gold - source_names(indexed)


def source_names(indexed: set[str]) -> set[str]:
    """Every name a gold source may give an indexed article by (``metrics.names_article``): its label, and
    its file's name at each "#" (a file may hold one too: ``feed#1.jsonl#42``)."""
    return {label[:at] for label in indexed for at in _hashes(label)} | indexed


def unindexed_sources(items: Sequence[EvalItem], missing: set[str], indexed: set[str]) -> str:
    """Which questions name a gold source no indexed article has, with the indexed name it is closest to.

    A mistyped source used to be a warning: the run went on, its retrieval and citation scores silently
    lower, and a CI gate could pass; with every source missing it failed only after answering them all."""
    names = sorted(source_names(indexed))
    parts = []
    for source in sorted(missing)[:5]:
        ids = [item.id for item in items if source in item.sources]
        close = difflib.get_close_matches(source, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ("; a source is a file's name, not a path"
                                                               if "/" in source else "")
        parts.append(f"{source!r} (question {', '.join(ids[:3])}{'…' if len(ids) > 3 else ''}{hint})")
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    return (f"gold sources no indexed article has: {'; '.join(parts)}{more}. A source is an indexed file's name "
            "(or file.jsonl#id for one article of a collection): fix the dataset, or pass --corpus with the "
            "articles it is about")


def _hashes(label: str) -> list[int]:
    return [at for at, char in enumerate(label) if char == "#"]


def run_problems(run: EvalRun) -> list[str]:
    """Why the run measured less than it was asked to: the caller exits 1 (not 0, not 3), so a CI job
    whose backend had no key or whose judge was unreachable is red, not green because a retrieval gate
    happened to pass (an index without the dataset's articles stops the run before any question)."""
    metrics, problems = run.summary["metrics"], []
    if errors := metrics.get("errors"):
        first = next((r.error for r in run.results if r.error), "")
        problems.append(f"{errors} of {metrics.get('items')} question(s) got no answer: {first}")
    claims, unjudged = metrics.get("claims") or 0, metrics.get("unjudged_claims") or 0
    if claims and unjudged >= CHECKS_PER_CLAIM * claims:  # "unjudged_claims" counts checks, not claims
        problems.append(f"the judge decided none of the {claims} claim check(s) (see results.jsonl for why)")
    return problems


def eval_index_settings(settings: Settings, config: EvalConfig) -> Settings:
    """Where the run's index lives. With a corpus it is the run's own: a folder under ``--out`` and, on a
    Chroma server, a collection named after the corpus, because ``_index_exactly`` removes every article
    that is not in the corpus and must never do so in the collection a team shares."""
    if not config.index_path:
        return settings
    update: dict[str, object] = {"data_dir": config.index_path}
    if config.corpus and settings.chroma_url:
        digest = hashlib.sha256("\n".join(sorted(str(p) for p in config.corpus)).encode()).hexdigest()[:10]
        update["collection"] = f"{settings.collection}-eval-{digest}"
    return settings.model_copy(update=update)


def _claim_index(engine: NewsRAG, explicit: bool) -> None:
    """Mark the run's index folder as eval's own, refusing one that holds an index eval did not build:
    ``_index_exactly`` removes every article outside the corpus, and ``--index-dir`` pointed at a team's
    index removed its articles without a word. The default folder (``OUT/index``) is always eval's."""
    mark = Path(engine.settings.data_dir) / EVAL_INDEX_MARK
    if explicit and not mark.exists() and (held := len(engine.documents())):
        raise ValueError(f"--index-dir {engine.settings.data_dir} holds an index that `rag eval` did not build "
                         f"({held} article(s)): a run makes its index hold exactly the corpus and would remove "
                         "the others. Give a new or empty folder, or evaluate that index as it is with "
                         f"`rag eval --data-dir {engine.settings.data_dir}` and no --corpus (an index an earlier "
                         "`rag eval` built before indexes were marked: delete the folder)")
    mark.parent.mkdir(parents=True, exist_ok=True)
    mark.write_text("built by `rag eval`: it removes every article here that is not in its corpus\n")


def _index_exactly(engine: NewsRAG, corpus: Sequence[Path], status: Status) -> None:
    """Ingest the corpus and remove every other article, so an earlier corpus indexed in the same
    folder never answers (or is cited) in this run; an unchanged corpus costs no embedding."""
    report = engine.ingest(corpus)
    for skipped in report.skipped:
        status(f"skipped {skipped.path}: {skipped.reason}")
    if not report.indexed:
        raise ValueError(f"the corpus ({', '.join(map(str, corpus))}) gave no article to index: check the path")
    kept = set(report.indexed)
    stale = [doc.doc_id for doc in engine.documents() if doc.doc_id not in kept]
    if stale:
        status(f"removing {len(stale)} article(s) not in this corpus from the eval index")
        engine.store.remove_articles(stale)  # the keyword index follows on the next search
