"""The ``rag`` command. Thin: it parses options, calls ``NewsRAG`` and prints; errors become messages."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from pydantic import ValidationError

from rag.errors import ConfigError, RagError
from rag.settings import Settings

app = typer.Typer(
    help="Question answering over news articles, with cited sources. Offline by default.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
err_console = Console(stderr=True)


@app.callback()
def _global_options(
    ctx: typer.Context,
    data_dir: Annotated[Optional[Path], typer.Option(
        "--data-dir", help="Where the index lives. Env: RAG_DATA_DIR; default ~/.local/share/news-rag.",
        show_default=False)] = None,
) -> None:
    overrides = {"data_dir": data_dir} if data_dir else {}
    try:
        ctx.obj = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_invalid_settings(exc)) from exc


def describe_invalid_settings(exc: ValidationError) -> str:
    """'RAG_TOP_K: Input should be a valid integer' rather than a pydantic traceback."""
    problems = [f"RAG_{'_'.join(str(p) for p in error['loc']).upper()}: {error['msg']}" for error in exc.errors()]
    return "invalid settings: " + "; ".join(problems)


def settings_of(ctx: typer.Context, **overrides: object) -> Settings:
    """The global settings with per-command overrides (only those actually given)."""
    base: Settings = ctx.obj
    given = {key: value for key, value in overrides.items() if value is not None}
    return base.model_copy(update=given) if given else base


def main() -> None:
    """Entry point: a ``RagError`` is a message and exit code 1, never a traceback."""
    # Importing a module registers its commands. ui/eval/bench import their packages lazily, inside
    # the command, so `rag ingest` never pays for Gradio and the engine never depends on them.
    from rag.cli import answer, bench_cmd, eval_cmd, index, serve_cmd, ui_cmd  # noqa: F401

    try:
        app()
    except RagError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        sys.exit(1)
