"""``rag ingest | search | documents | remove | config``: building and inspecting the index."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rag import IngestReport, NewsRAG, SearchFilters
from rag.cli import app, settings_of
from rag.dates import DateError, display_date, to_epoch
from rag.loading import SUPPORTED_SUFFIXES

console = Console()


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(
        help=f"Files or folders ({' '.join(SUPPORTED_SUFFIXES)}), walked recursively.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Clean, chunk, embed and index articles. Unchanged files are skipped; changed ones replaced."""
    engine = NewsRAG(settings_of(ctx))
    with Progress(TextColumn("[bold]ingesting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}", markup=False), console=Console(stderr=True), transient=True,
                  disable=as_json) as bar:
        task = bar.add_task("", total=None)
        report = engine.ingest(paths, progress=lambda done, total, name: bar.update(
            task, completed=done, total=total, description=name))
    counts = _counts(report)
    # Nothing usable at all (a mistyped path, only rejected files) fails, so a script notices; a folder
    # with some rejected files among good ones succeeds, its rejects listed.
    failed = bool(report.skipped) and not any(n for name, n in counts.items() if name != "skipped")
    found_none = not any(counts.values())  # an empty folder: "the index already holds these articles" misled
    failed = failed or found_none
    if as_json:
        print(json.dumps({**asdict(report), "counts": counts}, indent=2))
        raise typer.Exit(1 if failed else 0)
    console.print(f"added {counts['added']}, updated {counts['updated']}, re-chunked {counts['rechunked']}, "
                  f"unchanged {counts['unchanged']}, "
                  f"removed {counts['removed']}, skipped {counts['skipped']}; {report.chunks_embedded} chunks embedded "
                  f"in {report.seconds:.1f} s")
    if report.rechunked:
        console.print("re-chunked: articles indexed by another chunker version or RAG_CHUNK_SIZE/RAG_CHUNK_OVERLAP, "
                      "cut and embedded again with today's")
    for notice in report.notices:
        console.print(f"[cyan]note[/] {escape(notice)}")  # "news-rag[multilingual]" is no style
    if found_none:
        console.print(f"[red]no articles found[/] under {escape(', '.join(map(str, paths)))}: article files end in "
                      f"{' '.join(sorted(SUPPORTED_SUFFIXES))}")
        raise typer.Exit(1)
    if not report.changed_anything and not report.skipped:
        console.print("nothing changed: the index already holds these articles")
    for skipped in report.skipped:
        console.print(f"[yellow]skipped[/] {escape(str(skipped.path))}: {escape(skipped.reason)}")
    for warning in report.warnings:
        console.print(f"[yellow]warning[/] {escape(str(warning.path))}: {escape(warning.reason)}")
    if failed:
        console.print("[red]nothing was ingested[/]: every path above was skipped")
        raise typer.Exit(1)


def _counts(report: IngestReport) -> dict[str, int]:
    return {"added": len(report.added), "updated": len(report.updated),
            "rechunked": len(report.rechunked), "unchanged": len(report.unchanged),
            "removed": len(report.removed), "skipped": len(report.skipped)}


def _date_option(value: str | None, option: str) -> int | None:
    """A filter date the user typed; an unreadable one is an error, never a search without the filter."""
    try:
        return to_epoch(value)
    except DateError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from exc


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", "--top-k", min=1, max=100, help="How many passages.")] = 5,
    source: Annotated[Optional[list[str]], typer.Option(
        "--source", help="Only these files (names as `rag documents` lists them; a path counts by its name).")] = None,
    since: Annotated[Optional[str], typer.Option(help="Published on/after: 2024-12-07, 7 December 2024, 2024, ... (as a feed's dates).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Published before, written as for --since.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as JSON.")] = False,
) -> None:
    """Find the passages that best match a query (dense + keyword search, fused)."""
    if not query.strip():  # printed "no matching passages" with exit code 0, where `rag ask ""` is a usage error
        raise typer.BadParameter('the query is empty: rag search "flood Valencia"', param_hint="QUERY")
    filters = SearchFilters(sources=tuple(source or ()), published_from=_date_option(since, "--since"),
                            published_to=_date_option(until, "--until"))
    hits = NewsRAG(settings_of(ctx)).search(query, k, filters)
    if as_json:
        print(json.dumps([asdict(hit) for hit in hits], indent=2))
        return
    if not hits:
        narrowed = " with these --source/--since/--until (file names as `rag documents` lists them)" \
            if source or since or until else ""
        console.print(f"no matching passages{narrowed}")
    for rank, hit in enumerate(hits, start=1):
        # Article text is never markup: a scraped "[/video]" crashed rich, and "[photo]" vanished.
        console.print(f"[bold]{rank}. {escape(hit.title)}[/] [dim]({escape(hit.source_name)}, chars {hit.start}-{hit.end})[/]")
        console.print(f"   {hit.text}\n", highlight=False, markup=False)


@app.command()
def documents(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List the indexed articles."""
    docs = NewsRAG(settings_of(ctx)).documents()
    if as_json:
        print(json.dumps([asdict(doc) for doc in docs], indent=2))
        return
    table = Table("doc_id", "title", "source", "chunks", "published")
    for doc in docs:
        table.add_row(doc.doc_id, escape(doc.title), escape(doc.source_name), str(doc.chunks), display_date(doc.published))
    console.print(table)
    console.print(f"{len(docs)} articles")


@app.command()
def remove(
    ctx: typer.Context,
    doc_id: Annotated[str, typer.Argument(help="The doc_id shown by `rag documents`.")],
) -> None:
    """Delete an article and its passages from the index."""
    if not NewsRAG(settings_of(ctx)).remove(doc_id):
        console.print(f"[red]no article with doc_id {escape(doc_id)}[/] (see `rag documents`)")
        raise typer.Exit(1)
    console.print(f"removed {escape(doc_id)}")


@app.command()
def config(ctx: typer.Context) -> None:
    """Print the effective settings (environment + defaults), secrets masked."""
    print(json.dumps(settings_of(ctx).redacted(), indent=2, default=str))
