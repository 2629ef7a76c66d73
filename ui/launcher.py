"""Starting the UI: who may connect, first-start seeding, then serving, alone (``rag ui``, ``python -m ui``)
or mounted beside the HTTP API (``rag serve``)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import rag
from rag import ConfigError, IngestReport, NewsRAG, Settings
from rag.service import is_loopback  # one rule for the UI and the API

if TYPE_CHECKING:
    from fastapi import FastAPI

AUTH_ENV = "RAG_UI_AUTH"
def parse_auth(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError(f"--auth / {AUTH_ENV} must look like user:password (the value given has no user, "
                          "no ':' or no password; it is not shown, being a secret)")
    return user, password


def resolve_auth(host: str, auth: str | None, no_auth: bool) -> tuple[tuple[str, str] | None, str]:
    """The login to require, and a sentence saying who can reach the app.

    Loopback needs no login. Any other address needs ``--auth`` (or ``RAG_UI_AUTH``), unless the user
    explicitly takes the risk with ``--no-auth``.
    """
    if auth and no_auth:
        raise ConfigError(f"--auth (or {AUTH_ENV}) and --no-auth exclude each other: pick one")
    credentials = parse_auth(auth) if auth else None
    if credentials:
        return credentials, f"login required (user '{credentials[0]}')"
    if is_loopback(host):
        return None, "loopback only: reachable from this machine, no login"
    if no_auth:
        return None, f"WARNING: listening on {host} WITHOUT authentication (--no-auth): anyone who can reach " \
                     "this machine can use the app and change its library"
    raise ConfigError(f"refusing to listen on {host} without authentication: pass --auth user:password "
                      f"(or set {AUTH_ENV}), or --no-auth to accept the risk; the default host 127.0.0.1 "
                      "needs neither")


def default_seed_dir() -> Path:
    """The bundled example articles: ``seeds/`` next to the ``rag`` package (a source checkout)."""
    return Path(rag.__file__).resolve().parent.parent / "seeds"


def seed_if_empty(engine: NewsRAG, seed_dir: Path | None,
                  say: Callable[[str], None] = print) -> IngestReport | None:
    """Index the seed articles on first start, so a new user has something to ask about."""
    if engine.documents():
        return None
    if seed_dir is None or not Path(seed_dir).is_dir():
        say(f"the index is empty and there is no seed folder ({seed_dir}); add articles in the Library tab")
        return None
    say(f"the index is empty: indexing the example articles in {seed_dir} …")
    report = engine.ingest([seed_dir])
    say(f"indexed {len(report.added)} articles ({report.chunks_embedded} passages) in {report.seconds:.1f} s")
    return report


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None,
          no_auth: bool = False, seed_dir: Path | None = None, block: bool = True,
          say: Callable[[str], None] = print) -> str:
    """Check access, seed an empty index, build and launch the app; returns its URL."""
    from_settings = settings.ui_auth.get_secret_value() if settings.ui_auth else None
    credentials, access = resolve_auth(host, auth or from_settings, no_auth)
    engine = NewsRAG(settings)
    seed_if_empty(engine, seed_dir if seed_dir is not None else default_seed_dir(), say)
    from ui.app import build_app, launch  # Gradio loads only once the checks above passed

    app = build_app(engine)
    say(f"news-rag UI on http://{host}:{port} ({access}); answers by {settings.llm}; index in {settings.data_dir}")
    try:
        return launch(app, host=host, port=port, auth=login_for(credentials) if credentials else None,
                      max_file_mb=settings.max_file_mb, block=block)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise ConfigError(f"cannot listen on {host}:{port} ({exc}); choose another --port or --host") from exc


def build_server_app(engine: NewsRAG, with_ui: bool = True, seed_dir: Path | None = None,
                     say: Callable[[str], None] = print, any_host: bool = False) -> FastAPI:
    """The API, with the UI mounted at ``/`` after it (the ``/v1`` routes are matched first);
    ``any_host`` as in ``build_service``."""
    from rag.service import build_service

    api = build_service(engine, any_host=any_host)
    if not with_ui:
        return api
    import gradio as gr

    from ui.app import build_app, theme
    from ui.assets import CSS, PAGE_JS

    seed_if_empty(engine, seed_dir if seed_dir is not None else default_seed_dir(), say)
    blocks = build_app(engine, api.state.slots)  # one answer queue for both (its Gradio queue is bounded there)
    app = gr.mount_gradio_app(api, blocks, path="/", auth=ui_login(engine), show_error=False, ssr_mode=False,
                              max_file_size=f"{engine.settings.max_file_mb:g}mb", footer_links=["api"],
                              theme=theme(), css=CSS, head=f"<script>{PAGE_JS}</script>")
    # Gradio checks that a file handed to an event was uploaded by a visitor only once its Blocks "has
    # launched", which mount_gradio_app never marks (Gradio 6.31): without this, a visitor could name any
    # server file as an "upload" and have it indexed and quoted to everyone. Gradio's own reload sets it so.
    blocks.has_launched = True
    return app


Login = Callable[[str, str], Awaitable[bool]]
LOGIN_FAILURE_SECONDS = 1.0


def ui_login(engine: NewsRAG) -> Login | None:
    """The UI's login: RAG_UI_AUTH when set; else, when the API has a token, that token as the password
    (any user name), so the page is never the open door beside a locked API."""
    settings = engine.settings
    if settings.ui_auth is not None:
        return login_for(parse_auth(settings.ui_auth.get_secret_value()))
    if settings.api_token is None:
        return None
    return login_for((None, settings.api_token.get_secret_value()))


def login_for(credentials: tuple[str | None, str]) -> Login:
    """Gradio's login check for one user and password (any user name when None), compared in constant
    time. Gradio's /login has no limit on attempts, so each wrong one costs ``LOGIN_FAILURE_SECONDS``,
    one at a time for the whole server: at most one guess a second, however many clients guess."""
    user, password = credentials
    failures = asyncio.Lock()  # made on first use, in the loop of the server that calls it

    async def check(given_user: str, given_password: str) -> bool:
        right = secrets.compare_digest(given_password.encode(), password.encode())
        if right and (user is None or secrets.compare_digest(given_user.encode(), user.encode())):
            return True
        async with failures:
            await asyncio.sleep(LOGIN_FAILURE_SECONDS)
        return False

    return check
