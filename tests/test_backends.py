"""The openai path against real OpenAI-compatible HTTP servers on 127.0.0.1, and every backend fault."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from rag import NewsRAG, Settings
from tests.conftest import SEEDS, free_port

QUESTION = "How much has the US government contributed to Ukraine's war effort?"


def engine_with(tmp_path: Path, **settings: object) -> NewsRAG:
    engine = NewsRAG(Settings(data_dir=tmp_path / "data", **settings))
    engine.ingest([SEEDS])
    return engine


@pytest.fixture(scope="module")
def openai_compatible_server() -> Iterator[tuple[str, str]]:
    """xllamacpp's own OpenAI-compatible HTTP server, started apart from the app: (base_url, model)."""
    from rag.model_files import ensure_model
    from rag.model_server import LocalModelServer
    import os

    with LocalModelServer(ensure_model(Path(os.environ["RAG_MODEL_DIR"]))) as server:
        yield server.base_url, server.model_name


@pytest.mark.slow
def test_openai_backend_answers_through_a_compatible_server(tmp_path: Path,
                                                            openai_compatible_server: tuple[str, str]) -> None:
    url, model = openai_compatible_server
    engine = engine_with(tmp_path, llm="openai", openai_base_url=url, openai_model=model)
    answer = engine.ask(QUESTION)
    assert answer.backend == "openai" and answer.model == model
    assert "64.1 billion" in answer.text and answer.citations


@pytest.mark.slow
def test_a_prompt_the_server_cannot_hold_is_answered_from_fewer_sources(tmp_path: Path) -> None:
    """A real overflow: an OpenAI-compatible server whose window (320 tokens) is smaller than the
    four-source prompt (~450). The engine cannot know the window of a remote server, so it sends the
    prompt, gets the server's context error, and retries without the weakest source."""
    from rag.model_files import ensure_model
    from rag.model_server import LocalModelServer
    import os

    with LocalModelServer(ensure_model(Path(os.environ["RAG_MODEL_DIR"])), context=320) as server:
        engine = engine_with(tmp_path, llm="openai", openai_base_url=server.base_url, openai_model=server.model_name)
        answer = engine.ask(QUESTION)
    assert answer.error == "" and not answer.refused, answer.error
    assert 0 < answer.prompt_tokens < 320 and "64.1 billion" in answer.text and answer.citations


def test_missing_key_names_the_setting_and_still_returns_sources(tmp_path: Path) -> None:
    answer = engine_with(tmp_path, llm="openai").ask(QUESTION)
    assert "OPENAI_API_KEY" in answer.error
    assert any(hit.source_name.startswith("001") for hit in answer.hits)


def test_server_down_names_the_base_url_setting(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    answer = engine_with(tmp_path, llm="openai", openai_base_url=url, request_timeout=5).ask(QUESTION)
    assert "RAG_OPENAI_BASE_URL" in answer.error and url in answer.error
    assert answer.hits


def test_an_error_never_shows_the_credentials_of_the_server_url(tmp_path: Path) -> None:
    """The message reaches every visitor (chat, the API's 503): a base URL's user:password stays out."""
    port = free_port()
    answer = engine_with(tmp_path, llm="openai", openai_base_url=f"http://svc-user:svc-pass@127.0.0.1:{port}/v1",
                         request_timeout=5).ask(QUESTION)
    assert f"http://127.0.0.1:{port}/v1" in answer.error
    assert "svc-pass" not in answer.error and "svc-user" not in answer.error


def test_local_server_gone_does_not_blame_the_openai_settings() -> None:
    from rag import BackendError, ChatClient

    url = f"http://127.0.0.1:{free_port()}/v1"  # the bundled model's loopback server, here already stopped
    client = ChatClient("local", "qwen", url, "local", 5)
    with pytest.raises(BackendError) as caught:
        client.complete([{"role": "user", "content": "hi"}], max_tokens=4)
    assert "bundled model" in str(caught.value) and "RAG_LLM=extractive" in str(caught.value)
    assert "RAG_OPENAI" not in str(caught.value)


class _Rejecting(BaseHTTPRequestHandler):
    """What api.openai.com answers to a wrong key (a fault we cannot cause against the real service)."""

    def do_POST(self) -> None:  # noqa: N802
        body = b'{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_wrong_key_names_the_key_setting(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Rejecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1"
        answer = engine_with(tmp_path, llm="openai", openai_base_url=url, openai_api_key="sk-wrong").ask(QUESTION)
    finally:
        server.shutdown()
    assert "401" in answer.error and "OPENAI_API_KEY" in answer.error
    assert answer.hits


def test_timeout_names_the_timeout_setting(tmp_path: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        answer = engine_with(tmp_path, llm="openai", openai_base_url=url, request_timeout=1).ask(QUESTION)
    finally:
        silent.close()
    assert "RAG_REQUEST_TIMEOUT" in answer.error
    assert answer.hits


def test_corrupt_local_model_is_a_clear_error_with_sources(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 4096)
    answer = engine_with(tmp_path, llm="local", local_model=bad).ask(QUESTION)
    assert "RAG_LOCAL_MODEL" in answer.error
    assert answer.hits
