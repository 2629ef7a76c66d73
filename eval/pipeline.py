"""A whole dataset run: config -> index -> answers -> scores -> files -> threshold verdict."""

from __future__ import annotations

from collections.abc import Callable

from rag import NewsRAG, Settings

from eval.config import EvalConfig
from eval.dataset import load_dataset, select
from eval.judges import build_judge
from eval.metrics import threshold_failures
from eval.report import write_outputs
from eval.runner import EvalRun, Progress, run_eval

Status = Callable[[str], None]


def run_dataset(config: EvalConfig, settings: Settings, progress: Progress | None = None,
                status: Status = lambda message: None) -> EvalRun:
    """Run ``config`` and write ``results.jsonl``, ``summary.json``, ``report.md`` and ``chart.png``.

    The returned summary holds ``threshold_failures``: the caller decides the exit code.
    """
    items = select(load_dataset(config.dataset), config.max_items, config.seed)  # fail fast on a bad file
    engine = NewsRAG(settings.model_copy(update={"data_dir": config.index_path}) if config.index_path else settings)
    if config.corpus:
        status(f"indexing {', '.join(str(p) for p in config.corpus)} into {engine.settings.data_dir}")
        engine.ingest(config.corpus)
    judge = build_judge(config.judge, settings)
    run = run_eval(items, engine, judge, progress=progress)
    indexed = {doc.source_name for doc in engine.documents()}
    gold = {source for item in items for source in item.sources}
    run.summary["run"].update({
        "dataset": config.dataset.name, "max_items": config.max_items, "seed": config.seed,
        "model": next((r.model for r in run.results if r.model), ""),
        "index": str(engine.settings.data_dir), "missing_gold_sources": sorted(gold - indexed),
    })
    run.summary["thresholds"] = {"min": dict(config.minimums), "max": dict(config.maximums)}
    run.summary["threshold_failures"] = threshold_failures(run.summary["metrics"], config.minimums, config.maximums)
    write_outputs(run, config.out)
    return run
