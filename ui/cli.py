"""``rag ui`` and ``rag serve``: the web UI alone, or beside the HTTP API on one port.

A plugin of the ``rag`` command (entry point ``news_rag.commands``: ``ui = "ui.cli:register"``).
``serve`` lives here rather than in ``rag`` because it mounts the UI: the layer that composes the API
and the UI is the one that sees both. Gradio and the rest of ``ui`` load inside the commands only.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated, Optional

import typer

from rag import ConfigError
from rag.cli import settings_of
from rag.cli.answer import LlmOption

SeedDirOption = Annotated[Optional[Path], typer.Option(
    help="Articles to index on first start, when the index is empty (default: the bundled seeds/).",
    show_default=False)]


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``ui`` to the ``rag`` command."""
    app.command("serve")(serve_command)
    app.command("ui")(ui_command)


def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on. Anything but loopback needs RAG_API_TOKEN "
                                           "or --no-auth.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    no_auth: Annotated[bool, typer.Option(
        "--no-auth", help="Allow a non-loopback --host without a token (anyone who can reach it can use it).")] = False,
    ui: Annotated[bool, typer.Option("--ui/--no-ui", help="Mount the web UI at /.")] = True,
    seed_dir: SeedDirOption = None,
    llm: LlmOption = None,
) -> None:
    """Serve the HTTP API (/v1/chat/completions, /v1/ask, /v1/documents) and the web UI on one port."""
    import uvicorn

    from rag import NewsRAG
    from rag.service import check_access
    from ui.launcher import build_server_app

    settings = settings_of(ctx, llm=llm)
    access = check_access(host, settings.api_token, no_auth)
    engine = NewsRAG(settings)
    server_app = build_server_app(engine, with_ui=ui, seed_dir=seed_dir, any_host=no_auth)
    listening = listening_socket(host, port)
    print(f"news-rag API on http://{host}:{port}/v1 ({access}); UI {'at /' if ui else 'off'}; answers by "
          f"{settings.llm}; index in {settings.data_dir}", flush=True)
    uvicorn.Server(uvicorn.Config(server_app, log_level="warning")).run(sockets=[listening])


def listening_socket(host: str, port: int) -> socket.socket:
    """The bound socket ``rag serve`` listens on, bound before the banner says where it listens: left to
    uvicorn, a taken port printed the banner, then uvicorn's own "[Errno 98]" line, and exit code 3."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listening = socket.socket(family, kind, proto)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        listening.bind(address)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port or "
                          "--host") from exc
    return listening


def ui_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on. Anything but loopback needs --auth or "
                                           "--no-auth.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 7860,
    auth: Annotated[Optional[str], typer.Option(
        help="Require a login, as user:password (env: RAG_UI_AUTH).", show_default=False)] = None,
    no_auth: Annotated[bool, typer.Option(
        "--no-auth", help="Allow a non-loopback --host without login (anyone who can reach it can use it).")] = False,
    seed_dir: SeedDirOption = None,
    llm: LlmOption = None,
) -> None:
    """Start the web UI: chat with cited sources, the article library, settings."""
    from ui.launcher import serve

    serve(settings_of(ctx, llm=llm), host=host, port=port, auth=auth, no_auth=no_auth, seed_dir=seed_dir)
