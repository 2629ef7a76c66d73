"""``rag ask`` and ``rag chat``: answers with numbered sources, streamed as they are written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Optional

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from rag import Answer, NewsRAG, RagError
from rag.cli import app, settings_of
from rag.settings import LlmBackend
from rag.text import clip_at_word

console = Console()
LlmOption = Annotated[Optional[LlmBackend], typer.Option(
    "--llm", help="Answer with: local (bundled model), openai (or any OpenAI-compatible server), extractive "
                  "(no model). Env: RAG_LLM.", show_default=False)]


@app.command()
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="A question about the indexed articles.")],
    llm: LlmOption = None,
    k: Annotated[Optional[int], typer.Option("-k", "--top-k", min=1, max=20, help="Passages to read.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of streaming.")] = False,
) -> None:
    """Answer a question with cited sources, or say the articles do not hold the answer."""
    if not question.strip():  # an empty one was "answered" with a refusal, and exit code 0
        raise typer.BadParameter("the question is empty: rag ask \"Who ...?\"", param_hint="QUESTION")
    engine = NewsRAG(settings_of(ctx, llm=llm, top_k=k))
    require_articles(engine)
    if as_json:
        answer = engine.ask(question)
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))  # the HTTP API's shape too
    else:
        answer = show_streamed(engine.stream(question))
    if answer.error:
        raise typer.Exit(1)


@app.command()
def chat(ctx: typer.Context, llm: LlmOption = None) -> None:
    """Interactive chat in the terminal; follow-up questions use the conversation. Empty line quits."""
    engine = NewsRAG(settings_of(ctx, llm=llm))
    require_articles(engine)
    history: list[dict[str, str]] = []
    console.print(f"[dim]news-rag chat ({engine.settings.llm}); empty line or Ctrl-D to quit[/]")
    while True:
        try:
            message = console.input("[bold cyan]you>[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not message or message in {"exit", "quit"}:
            break
        answer = show_streamed(engine.stream_chat(history, message))
        history += [{"role": "user", "content": message}, {"role": "assistant", "content": answer.text}]


def require_articles(engine: NewsRAG) -> None:
    """An empty index would refuse every question; say what to do instead."""
    if engine.store.count_chunks() == 0:
        location = engine.settings.chroma_url or engine.settings.data_dir
        raise RagError(f"The index at {location} holds no articles yet. Index some first, e.g. "
                       "`rag ingest seeds/` (the bundled examples) or `rag ingest path/to/articles/`.")


def show_streamed(items: Iterator[str | Answer]) -> Answer:
    """Show the model's words as they come, then replace them with the checked answer and its sources."""
    streamed = ""
    answer: Answer | None = None
    with Live(Text("searching the articles…", style="dim"), console=console, transient=True) as live:
        for item in items:
            if isinstance(item, Answer):
                answer = item
            else:
                streamed += item
                live.update(Text(streamed))
    assert answer is not None
    console.print(render_answer(answer))
    return answer


def render_answer(answer: Answer) -> Group:
    parts: list[Text] = []
    if answer.error:
        parts.append(Text(f"error: {answer.error}", style="bold red"))
    elif answer.refused:
        parts.append(Text(answer.text, style="yellow"))
    else:
        parts.append(Text(answer.text))
    if answer.citations:
        parts.append(Text("\nSources", style="bold"))
        for c in answer.citations:
            parts.append(Text(f"[{c.n}] {c.title} — {c.source}", style="cyan"))
            parts.append(Text(f"    “{c.quote}”", style="dim"))
    elif answer.hits:
        parts.append(Text("\nClosest articles" if not answer.error else "\nRetrieved passages", style="bold"))
        closest = answer.closest_articles()
        alike = len({(h.title, h.source_name) for h in closest}) < len(closest)  # e.g. one feed's live updates
        for hit in closest:
            parts.append(Text(f"- {hit.title} — {hit.source_name}", style="cyan"))
            if alike:
                parts.append(Text(f"    {_preview(hit.text)}", style="dim"))
    if answer.timings:
        timing = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in answer.timings.items())
        parts.append(Text(f"\n{answer.backend} · {answer.model} · {timing}", style="dim"))
    return Group(*parts)


PREVIEW_CHARS = 100


def _preview(passage: str) -> str:
    """The start of a passage, on one line: tells apart articles whose title and file are the same."""
    return clip_at_word(" ".join(passage.split()), PREVIEW_CHARS)
