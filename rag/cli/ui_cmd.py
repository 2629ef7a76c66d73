"""``rag ui``: the web UI (Gradio). Gradio and the ``ui`` package load inside the command only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.cli import app, settings_of
from rag.cli.answer import LlmOption


@app.command()
def ui(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on. Anything but loopback needs --auth or "
                                           "--no-auth.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 7860,
    auth: Annotated[Optional[str], typer.Option(
        help="Require a login, as user:password (env: RAG_UI_AUTH).", show_default=False)] = None,
    no_auth: Annotated[bool, typer.Option(
        "--no-auth", help="Allow a non-loopback --host without login (anyone who can reach it can use it).")] = False,
    seed_dir: Annotated[Optional[Path], typer.Option(
        help="Articles to index on first start, when the index is empty (default: the bundled seeds/).",
        show_default=False)] = None,
    llm: LlmOption = None,
) -> None:
    """Start the web UI: chat with cited sources, the article library, settings."""
    from ui.launcher import serve

    serve(settings_of(ctx, llm=llm), host=host, port=port, auth=auth, no_auth=no_auth, seed_dir=seed_dir)
