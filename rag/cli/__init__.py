"""The ``rag`` command. Thin: it parses options, calls ``NewsRAG`` and prints; errors become messages.

The engine's own commands live here; ``ui`` and ``eval`` add theirs as plugins (entry-point group
``news_rag.commands``, each a ``register(app)``), so imports flow one way: they import ``rag``, never
the reverse.
"""

from __future__ import annotations

import functools
import os
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from pydantic import ValidationError

from rag.errors import ConfigError, RagError
from rag.settings import Settings, unknown_variables

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
    ctx.obj = load_settings(**({"data_dir": data_dir} if data_dir else {}))
    for name in unknown_variables(os.environ):
        err_console.print(f"[yellow]warning:[/] {escape(name)} is no setting of news-rag and is ignored "
                          "(`rag config` lists them)")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, or a readable error naming the variable that is wrong."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(describe_invalid_settings(exc)) from exc


def describe_invalid_settings(exc: ValidationError) -> str:
    """'RAG_TOP_K: Input should be a valid integer' rather than a pydantic traceback."""
    problems = [f"RAG_{'_'.join(str(p) for p in error['loc']).upper()}: {error['msg']}" for error in exc.errors()]
    return "invalid settings: " + "; ".join(problems)


def settings_of(ctx: typer.Context, **overrides: object) -> Settings:
    """The global settings with per-command overrides (only those actually given)."""
    base: Settings = ctx.obj if ctx.obj is not None else load_settings()  # None: run without ``rag`` (python -m eval)
    given = {key: value for key, value in overrides.items() if value is not None}
    return base.model_copy(update=given) if given else base


PLUGIN_GROUP = "news_rag.commands"


@functools.cache
def load_commands() -> typer.Typer:
    """``app`` with every command registered, once: the engine's, then each plugin's in name order
    (a stable ``rag --help``). Plugins import Gradio and the eval suite inside their commands only."""
    from rag.cli import answer, index  # noqa: F401  (importing a module registers its commands)

    for entry in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        load_plugin(app, entry)
    return app


def load_plugin(target: typer.Typer, entry: EntryPoint) -> bool:
    """Call one plugin's ``register(app)``. A broken plugin is a warning and adds no command, so the
    rest of ``rag`` still works."""
    commands, groups = len(target.registered_commands), len(target.registered_groups)
    try:
        entry.load()(target)
    except Exception as exc:  # any failure of third-party code: import, attribute or registration
        del target.registered_commands[commands:], target.registered_groups[groups:]
        err_console.print(f"[yellow]warning:[/] the {entry.name!r} commands ({entry.value}) did not load: "
                          f"{escape(f'{type(exc).__name__}: {exc}')}", highlight=False, soft_wrap=True)
        return False
    return True


def main() -> None:
    """Entry point of ``rag``."""
    load_commands()
    run(app)


def run(command: typer.Typer, prog_name: str | None = None) -> None:
    """Run a command group: a ``RagError`` is a message and exit code 1, never a traceback."""
    try:
        command(prog_name=prog_name)
    except RagError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}")  # it may quote a file name or a line
        sys.exit(1)
    except OSError as exc:  # a data dir or output folder that cannot be made: "/proc/x", a path under a file
        if exc.filename is None:
            raise
        err_console.print(f"[bold red]error:[/] cannot use {escape(str(exc.filename))}: "
                          f"{escape(exc.strerror or str(exc))}")
        sys.exit(1)
