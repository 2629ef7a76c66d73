"""``rag serve``: the HTTP API (OpenAI-compatible, with citations) and the web UI on one port.

The API is ``rag.service``; the Gradio UI is mounted at ``/`` and, like in ``rag ui``, Gradio and the
``ui`` package load inside the command only.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from rag.cli import app, settings_of
from rag.cli.answer import LlmOption
from rag.errors import ConfigError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from rag.engine import NewsRAG


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on. Anything but loopback needs RAG_API_TOKEN "
                                           "or --no-auth.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    no_auth: Annotated[bool, typer.Option(
        "--no-auth", help="Allow a non-loopback --host without a token (anyone who can reach it can use it).")] = False,
    ui: Annotated[bool, typer.Option("--ui/--no-ui", help="Mount the web UI at /.")] = True,
    seed_dir: Annotated[Optional[Path], typer.Option(
        help="Articles to index on first start, when the index is empty (default: the bundled seeds/).",
        show_default=False)] = None,
    llm: LlmOption = None,
) -> None:
    """Serve the HTTP API (/v1/chat/completions, /v1/ask, /v1/documents) and the web UI on one port."""
    import uvicorn

    from rag.engine import NewsRAG
    from rag.service import check_access

    settings = settings_of(ctx, llm=llm)
    access = check_access(host, settings.api_token, no_auth)
    engine = NewsRAG(settings)
    server_app = build_server_app(engine, with_ui=ui, seed_dir=seed_dir)
    print(f"news-rag API on http://{host}:{port}/v1 ({access}); UI {'at /' if ui else 'off'}; answers by "
          f"{settings.llm}; index in {settings.data_dir}", flush=True)
    try:
        uvicorn.run(server_app, host=host, port=port, log_level="warning")
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise ConfigError(f"cannot listen on {host}:{port} ({exc}); choose another --port or --host") from exc


def build_server_app(engine: NewsRAG, with_ui: bool = True, seed_dir: Path | None = None,
                     say: Callable[[str], None] = print) -> FastAPI:
    """The API, with the UI mounted at ``/`` after it (the ``/v1`` routes are matched first)."""
    from rag.service import build_service

    api = build_service(engine)
    if not with_ui:
        return api
    import gradio as gr

    from ui.app import build_app, theme
    from ui.assets import CSS, PAGE_JS
    from ui.launcher import default_seed_dir, seed_if_empty

    seed_if_empty(engine, seed_dir if seed_dir is not None else default_seed_dir(), say)
    blocks = build_app(engine).queue(default_concurrency_limit=1)
    return gr.mount_gradio_app(api, blocks, path="/", auth=ui_login(engine), show_error=True, ssr_mode=False,
                               max_file_size=f"{engine.settings.max_file_mb:g}mb", footer_links=["api"],
                               theme=theme(), css=CSS, head=f"<script>{PAGE_JS}</script>")


def ui_login(engine: NewsRAG) -> tuple[str, str] | Callable[[str, str], bool] | None:
    """The UI's login: RAG_UI_AUTH when set; else, when the API has a token, that token as the password
    (any user name), so the page is never the open door beside a locked API."""
    settings = engine.settings
    if settings.ui_auth is not None:
        from ui.launcher import parse_auth

        return parse_auth(settings.ui_auth.get_secret_value())
    if settings.api_token is None:
        return None
    token = settings.api_token.get_secret_value().encode()
    return lambda user, password: secrets.compare_digest(password.encode(), token)
