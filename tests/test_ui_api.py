"""The UI's programmatic side: `rag ui` launched for real, queried with gradio_client; access rules; uploads.

The server is a real subprocess (`rag ui --port N`) on a fresh data dir, so first-start seeding and the
CLI are exercised too. Answers come from the `extractive` backend: instant and deterministic.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag import ConfigError, NewsRAG, Settings  # importing rag sets HF_HUB_OFFLINE: gradio_client stays offline
from rag.answering import REFUSAL_TEXT
from tests.conftest import SEEDS, free_port, wait_for_http
from ui import build_app, launch
from ui.chat import stream_reply
from ui.launcher import resolve_auth
from rag.uploads import read_upload, save_uploads, upload_problem

from gradio_client import Client  # isort: skip  (after rag, which sets HF_HUB_OFFLINE that it reads at import)

RAG = str(Path(sys.executable).parent / "rag")
FUNDING_QUESTION = "How much has the US government contributed to Ukraine's war effort?"


def _env(data_dir: Path) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items()
                 if key not in ("RAG_UI_AUTH", "RAG_CHROMA_URL", "OPENAI_API_KEY")}
    return {**inherited, "RAG_LLM": "extractive", "RAG_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False"}


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`rag ui` on a free port with an empty index; yields its URL and its console log."""
    home = tmp_path_factory.mktemp("ui-api")
    port = free_port()
    log_path = home / "ui.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([RAG, "ui", "--port", str(port), "--seed-dir", str(SEEDS)],
                                   env=_env(home / "data"), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_http(f"http://127.0.0.1:{port}/", timeout=120, process=process)
            yield f"http://127.0.0.1:{port}/", log_path
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def client(ui_server: tuple[str, Path]) -> Client:
    return Client(ui_server[0], verbose=False)


def test_first_start_indexes_the_seeds_and_says_who_can_connect(ui_server: tuple[str, Path]) -> None:
    log = ui_server[1].read_text()
    assert "indexed 5 articles" in log
    assert "loopback only" in log


def test_seed_question_returns_a_cited_answer(client: Client) -> None:
    text, details = client.predict(FUNDING_QUESTION, api_name="/ask")
    assert "64.1 billion" in text and "[1]" in text
    assert not details["refused"] and details["error"] is None
    first = details["citations"][0]
    assert first["n"] == 1 and "64.1 billion" in first["quote"]
    assert first["title"] == "Zelensky wants to ‘work directly’ with Trump on ending Ukraine’s war with Russia"
    assert first["source"] == "001_c788a5a7159858c4.txt"
    assert details["backend"] == "extractive"


def test_unanswerable_question_is_refused_with_closest_articles(client: Client) -> None:
    text, details = client.predict("Who won the 1998 World Cup final?", api_name="/ask")
    assert details["refused"] and not details["citations"]
    assert text == REFUSAL_TEXT
    assert details["closest"] and all(article["title"] for article in details["closest"])


def test_follow_up_is_answered_in_the_context_of_the_history(client: Client) -> None:
    history = [{"role": "user", "content": FUNDING_QUESTION},
               {"role": "assistant", "content": [{"type": "text", "text": "$64.1 billion [1]."}]}]
    text, details = client.predict("And since when?", history, api_name="/ask")
    assert details["question"] == f"{FUNDING_QUESTION} And since when?"  # made to stand alone before retrieval
    assert not details["refused"] and "since Russia launched its full-scale invasion in February 2022" in text


def test_only_the_ask_endpoint_is_public(client: Client) -> None:
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/ask"]


# --- who may connect --------------------------------------------------------------------------------
@pytest.mark.parametrize("entry", [[RAG, "ui"], [sys.executable, "-m", "ui"]])
def test_public_host_without_auth_exits_with_a_clear_error(entry: list[str], tmp_path: Path) -> None:
    result = subprocess.run([*entry, "--host", "0.0.0.0", "--port", str(free_port())], env=_env(tmp_path),
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 1
    assert "refusing to listen on 0.0.0.0 without authentication" in result.stderr
    assert "--auth" in result.stderr and "--no-auth" in result.stderr


@pytest.mark.parametrize(("host", "auth", "no_auth", "login", "says"), [
    ("127.0.0.1", None, False, None, "loopback only"),
    ("localhost", None, False, None, "loopback only"),
    ("0.0.0.0", "ann:s3cret:x", False, ("ann", "s3cret:x"), "login required"),
    ("192.168.1.5", None, True, None, "WITHOUT authentication"),
])
def test_access_rules(host: str, auth: str | None, no_auth: bool, login: tuple[str, str] | None,
                      says: str) -> None:
    credentials, message = resolve_auth(host, auth, no_auth)
    assert credentials == login and says in message


@pytest.mark.parametrize(("auth", "no_auth", "error"), [
    (None, False, "without authentication"), ("nopassword", False, "user:password"),
    ("ann:pw", True, "exclude each other")])
def test_bad_access_options_are_refused(auth: str | None, no_auth: bool, error: str) -> None:
    with pytest.raises(ConfigError, match=error) as refused:
        resolve_auth("0.0.0.0", auth, no_auth)
    assert auth is None or auth not in str(refused.value)  # a mistyped password is never printed


def test_login_is_enforced_when_auth_is_given(seeded_engine: NewsRAG) -> None:
    app = build_app(seeded_engine)
    url = launch(app, port=free_port(), auth=("ann", "s3cret"), block=False)
    try:
        assert httpx.get(f"{url}config", timeout=10).status_code == 401
        text, _ = Client(url, auth=("ann", "s3cret"), verbose=False).predict(FUNDING_QUESTION, api_name="/ask")
        assert "64.1 billion" in text
    finally:
        app.close()


def test_index_server_down_is_a_readable_chat_message() -> None:
    nobody_listens = free_port()
    engine = NewsRAG(Settings(llm="extractive", chroma_url=f"http://127.0.0.1:{nobody_listens}"))
    replies = list(stream_reply(engine, [], FUNDING_QUESTION))
    assert "Searching the articles" in replies[0].markdown
    assert replies[-1].answer is None
    assert replies[-1].markdown.startswith("**Could not answer.** Cannot reach the Chroma server")


# --- uploads are checked before they reach the engine ----------------------------------------------------
def test_uploads_are_type_and_size_checked_and_copied_to_a_stable_folder(tmp_path: Path) -> None:
    incoming = tmp_path / "gradio-tmp"
    incoming.mkdir()
    good = incoming / "my report (final).md"
    good.write_text("# Title\n\nSome text.\n")
    (incoming / "photo.png").write_bytes(b"\x89PNG\r\n")
    (incoming / "fake.txt").write_bytes(b"text\x00\x01binary")
    (incoming / "big.txt").write_text("x" * 2048)
    intake = save_uploads([(p.name, read_upload(p, 1024)) for p in sorted(incoming.iterdir())],
                          tmp_path / "uploads", max_bytes=1024)
    assert intake.accepted == [(tmp_path / "uploads" / "my_report_final_.md").resolve()]
    assert intake.accepted[0].read_text() == good.read_text()
    assert dict(intake.rejected) == {  # each names what is wrong and, where there is one, the setting or the fix
        "big.txt": "too large (the limit is 0.000976562 MB, set by RAG_MAX_FILE_MB)",  # 1024 bytes, in MiB
        "fake.txt": "binary content, not text",
        "photo.png": "unsupported type '.png' (accepted: .htm, .html, .json, .jsonl, .markdown, .md, .txt)"}
    assert upload_problem(good.name, good.read_bytes(), max_bytes=1024) is None
    for codec in ("utf-16", "utf-16-le"):  # with and without a byte-order mark: text, full of NUL bytes
        assert upload_problem("kyiv.txt", "Київ: мер відкрив міст. The bridge opened.".encode(codec), 1024) is None
