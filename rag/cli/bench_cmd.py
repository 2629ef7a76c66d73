"""``rag bench ingest | retrieval | answer | qa-set | concurrency | report``: the benchmarks of ``eval/bench``.

Each command prints its table and stores its figures (with machine, versions and load) in
``<out>/<machine>.json``. The ``eval.bench`` package is imported inside the commands only, so the
rest of the CLI never pays for it.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from rag.cli import app, settings_of

console = Console()
bench_app = typer.Typer(help="Measure ingestion, retrieval quality, latency and concurrency (HaluEval corpora).",
                        no_args_is_help=True)
app.add_typer(bench_app, name="bench")

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
    n: N = 10_000,
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
    from eval.bench import retrieval

    folder = _work(ctx, work)
    if quality:
        _store(out, "retrieval", retrieval.run(n, folder, questions=questions, tune=tune))
    if latency:
        _store(out, "latency", latency_bench.run(n, folder, queries=queries))


@bench_app.command("answer")
def answer_bench(
    ctx: typer.Context,
    n: N = 10_000,
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
    n: N = 10_000,
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
    corpus: Annotated[Path, typer.Option(help="Articles to index [default: the bundled seeds/].",
                                         show_default=False)] = Path(__file__).resolve().parents[2] / "seeds",
    out: OUT = DEFAULT_OUT,
    work: WORK = None,
    seconds: Annotated[float, typer.Option(min=1, help="How long each measurement runs.")] = 10.0,
) -> None:
    """`POST /v1/ask` beside `NewsRAG.ask` in process (extractive), at 1 and 8 clients: the HTTP layer's cost."""
    from eval.bench import report, service

    figures = service.run(corpus.resolve(), _work(ctx, work), seconds=seconds)
    console.print(service.markdown(figures), highlight=False, markup=False, soft_wrap=True)
    console.print(f"wrote {report.save(out, 'service', figures, _command())}")


@bench_app.command("news")
def news_bench(
    ctx: typer.Context,
    half: Annotated[str, typer.Option(help="tune (choose thresholds here), report (quote these), or all.")] = "report",
    llm: Annotated[str, typer.Option(help="Answering backend: local, openai or extractive.")] = "local",
    naive: Annotated[bool, typer.Option(help="Also run the naive llama-index pipeline, alternating.")] = True,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N questions of the half.")] = None,
    out: OUT = DEFAULT_OUT,
    work: WORK = None,
) -> None:
    """news_dev (issue 13) on 2,000 CNN/DailyMail articles: right and cited, refusals, wrong answers,
    first token beside a naive pipeline, and the refusal-threshold sweep."""
    from eval.bench import news, report

    if half not in news.HALVES:
        raise typer.BadParameter(f"unknown half {half!r}: choose {', '.join(news.HALVES)}")
    figures = news.run(_work(ctx, work), half=half, llm=llm, naive=naive, limit=limit)  # type: ignore[arg-type]
    console.print(news.markdown(figures), highlight=False, markup=False, soft_wrap=True)
    console.print(f"wrote {report.save(out, f'news_{half}_{llm}', figures, _command())}")


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
