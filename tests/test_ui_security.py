"""The shared web UI as a hostile visitor sees it: a real app, called the way a browser calls it.

Gradio's "private" events are hidden from gradio_client, but anyone can send what the page sends
(``/gradio_api/run/predict`` and ``/gradio_api/queue/join`` with an ``fn_index``), so ``Visitor`` does
exactly that, for every event of the page. The operator's OpenAI-compatible server and an attacker's are
both real HTTP servers on 127.0.0.1 that record the ``Authorization`` header of every request.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from rag import ConfigError, NewsRAG, Settings
from rag.errors import InputTooLong
from tests.conftest import SEEDS, free_port
from ui import build_app, launch
from ui.chat import recent_turns
from rag.uploads import read_upload, save_uploads

from gradio_client import Client  # isort: skip  (after rag, which sets HF_HUB_OFFLINE)

KEY = "sk-operator-secret-1234"
SECRET_BYTES = "ZQXW this file is private to the server\n"
QUESTION = "How much has the US government contributed to Ukraine's war effort?"


class FakeOpenAI:
    """An OpenAI-compatible chat server that records who called it with which key.

    ``slow``: stream a word every 0.1 s for a minute, and record when the client went away."""

    def __init__(self, slow: bool = False) -> None:
        self.requests: list[tuple[str, str]] = []  # (path, Authorization header)
        self.disconnected_at: float | None = None
        self.first_chunk_at: float | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._record()
                self._send_json({"data": [{"id": "fake-model", "object": "model"}]})

            def do_POST(self) -> None:
                self._record()
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                words = ["word "] * 600 if slow else ["The US has given $64.1 billion [1]."]
                try:
                    for word in words:
                        delta = {"choices": [{"index": 0, "delta": {"content": word}}]}
                        self.wfile.write(f"data: {json.dumps(delta)}\n\n".encode())
                        self.wfile.flush()
                        fake.first_chunk_at = fake.first_chunk_at or time.monotonic()
                        if slow:
                            time.sleep(0.1)
                    self.wfile.write(b"data: [DONE]\n\n")
                except OSError:  # the client closed the stream
                    fake.disconnected_at = time.monotonic()

            def _record(self) -> None:
                fake.requests.append((self.path, self.headers.get("Authorization", "")))

            def _send_json(self, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Visitor:
    """One browser session, speaking the page's own protocol to every event (private ones included)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = uuid.uuid4().hex[:11]
        self.http = httpx.Client(timeout=60)
        config = self.http.get(url + "config").json()
        self.components = {c["id"]: c for c in config["components"]}
        self.deps: list[dict[str, Any]] = config["dependencies"]
        self.seen: list[str] = []  # every response body: what a visitor could read

    def fn_index(self, api_name: str) -> int:
        return next(i for i, d in enumerate(self.deps) if d.get("api_name") == api_name)

    def defaults(self, index: int) -> list[Any]:
        """What the page would send for this event before the visitor touches anything."""
        return [self.components[c].get("props", {}).get("value") for c in self.deps[index]["inputs"]]

    def call(self, index: int, data: list[Any]) -> str:
        """Run one event as the page does; returns the raw response text (errors included)."""
        body = {"data": data, "fn_index": index, "session_hash": self.session, "event_data": None,
                "trigger_id": (self.deps[index].get("targets") or [[None]])[0][0]}  # an API has none
        if not self.deps[index].get("queue", True):
            text = self.http.post(self.url + "gradio_api/run/predict", json=body).text
        else:
            joined = self.http.post(self.url + "gradio_api/queue/join", json=body).json()
            text = self._until_done(joined.get("event_id", ""))
        self.seen.append(text)
        return text

    def start(self, index: int, data: list[Any]) -> str:
        """Join the queue without waiting; returns the event id."""
        body = {"data": data, "fn_index": index, "session_hash": self.session, "event_data": None,
                "trigger_id": None}
        return str(self.http.post(self.url + "gradio_api/queue/join", json=body).json()["event_id"])

    def _until_done(self, event_id: str) -> str:
        lines = []
        with self.http.stream("GET", self.url + "gradio_api/queue/data",
                              params={"session_hash": self.session}) as response:
            for line in response.iter_lines():
                lines.append(line)
                if line.startswith("data:") and '"process_completed"' in line and event_id in line:
                    break
        return "\n".join(lines)

    def chat(self, question: str) -> str:
        """Type a question and press Ask: the final chat message, as the page would show it."""
        self.call(self.fn_index("take_question"), [question])
        respond = self.fn_index("respond")
        data = self.defaults(respond)
        data[1] = []  # the chatbot starts empty
        text = self.call(respond, data)
        final = [json.loads(line[5:]) for line in text.splitlines() if '"process_completed"' in line]
        output = final[-1]["output"] if final else {}
        return json.dumps(output)


@pytest.fixture
def operator_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


@pytest.fixture
def attacker() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()


@pytest.fixture
def shared_app(tmp_path: Path, operator_server: FakeOpenAI) -> Iterator[tuple[str, NewsRAG]]:
    """The UI as an operator runs it: the openai backend with a key, over the seed articles."""
    settings = Settings(data_dir=tmp_path / "data", llm="openai", openai_base_url=operator_server.url,
                        openai_api_key=SecretStr(KEY), openai_model="fake-model",
                        local_model=tmp_path / "operator-model.gguf",  # absent: choosing local fails fast
                        ui_examples=0)  # the request counts here are the visitors' alone, not the example writer's
    engine = NewsRAG(settings)
    engine.ingest([SEEDS])
    app = build_app(engine)
    url = launch(app, port=free_port(), block=False)
    yield url, engine
    app.close()


HOSTILE_TYPES = {"textbox", "dropdown", "radio"}


def test_no_visitor_action_sends_the_key_elsewhere_or_reads_server_files(
        shared_app: tuple[str, NewsRAG], attacker: FakeOpenAI, operator_server: FakeOpenAI, tmp_path: Path) -> None:
    url, engine = shared_app
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET_BYTES)
    server_level = {name: getattr(engine.settings, name) for name in
                    ("openai_base_url", "openai_api_key", "local_model", "data_dir", "model_dir", "chroma_url")}
    visitor = Visitor(url)
    for index, dep in enumerate(visitor.deps):
        for position, component_id in enumerate(dep["inputs"]):
            component = visitor.components[component_id]
            if component["type"] not in HOSTILE_TYPES:
                continue
            choices = [c[1] if isinstance(c, list) else c for c in component.get("props", {}).get("choices") or []]
            for radio_value in choices or [None]:
                for hostile in (attacker.url, str(secret)):
                    data = visitor.defaults(index)
                    for other, other_id in enumerate(dep["inputs"]):  # every choice with every hostile text
                        if radio_value is not None and visitor.components[other_id]["type"] == "radio":
                            data[other] = radio_value
                    data[position] = hostile
                    visitor.call(index, data)
                    visitor.chat(QUESTION)  # the next answer, in this session and for everyone else
                    Client(url, verbose=False).predict(QUESTION, api_name="/ask")
    assert attacker.requests == [], "a visitor made the server call another URL"
    assert any(auth == f"Bearer {KEY}" for _, auth in operator_server.requests)  # the answers did use the key
    assert all("ZQXW" not in text for text in visitor.seen), "a server file's bytes reached the page"
    assert {name: getattr(engine.settings, name) for name in server_level} == server_level


def test_settings_chosen_in_one_session_do_not_change_another(shared_app: tuple[str, NewsRAG],
                                                               operator_server: FakeOpenAI) -> None:
    url, engine = shared_app
    chooser, other = Visitor(url), Visitor(url)
    apply = chooser.fn_index("apply")
    data = chooser.defaults(apply)
    data[0] = "extractive"
    chooser.call(apply, data)

    before = len(operator_server.requests)
    assert "extractive" in chooser.chat(QUESTION)
    assert len(operator_server.requests) == before  # the chooser's answer used no model
    answer = other.chat(QUESTION)
    assert "fake-model" in answer and "extractive" not in answer  # the other visitor: still the operator's
    assert len(operator_server.requests) > before
    assert engine.settings.llm == "openai"


def test_too_long_question_gets_a_clear_message_and_no_prompt(shared_app: tuple[str, NewsRAG],
                                                              operator_server: FakeOpenAI) -> None:
    url, engine = shared_app
    before = len(operator_server.requests)
    answer = Visitor(url).chat("Why? " * 1000)
    assert "too long (4,999 characters; the limit is 1,000" in answer and "RAG_MAX_QUESTION_CHARS" in answer
    with pytest.raises(Exception, match="too long"):
        Client(url, verbose=False).predict("x" * 5000, api_name="/ask")
    assert len(operator_server.requests) == before  # nothing reached the model


def test_stop_closes_the_model_stream_at_once(tmp_path: Path) -> None:
    slow = FakeOpenAI(slow=True)
    engine = NewsRAG(Settings(data_dir=tmp_path / "data", llm="openai", openai_base_url=slow.url,
                              openai_api_key=SecretStr(KEY), openai_model="fake-model", ui_examples=0))
    engine.ingest([SEEDS])
    app = build_app(engine)
    url = launch(app, port=free_port(), block=False)
    try:
        visitor = Visitor(url)
        visitor.call(visitor.fn_index("take_question"), [QUESTION])
        respond = visitor.fn_index("respond")
        data = visitor.defaults(respond)
        data[1] = []
        event_id = visitor.start(respond, data)
        with visitor.http.stream("GET", url + "gradio_api/queue/data", params={"session_hash": visitor.session}):
            deadline = time.monotonic() + 60
            while slow.first_chunk_at is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert slow.first_chunk_at is not None, "the model was never asked"
            time.sleep(0.5)
            stopped = time.monotonic()
            visitor.http.post(url + "gradio_api/cancel",
                              json={"session_hash": visitor.session, "fn_index": respond, "event_id": event_id})
            while slow.disconnected_at is None and time.monotonic() < stopped + 10:
                time.sleep(0.05)
        assert slow.disconnected_at is not None, "the model kept generating after Stop"
        assert slow.disconnected_at - stopped < 3.0  # the slot is free at once, not after 60 s of words
    finally:
        app.close()
        slow.close()


# --- the engine's own guards ---------------------------------------------------------------------------
def test_configure_refuses_to_send_the_stored_key_to_a_new_base_url(attacker: FakeOpenAI) -> None:
    engine = NewsRAG(Settings(llm="openai", openai_base_url="http://127.0.0.1:9/v1", openai_api_key=SecretStr(KEY)))
    with pytest.raises(ConfigError, match="would send the stored API key"):
        engine.configure(openai_base_url=attacker.url)
    with pytest.raises(ConfigError, match="stored API key"):
        engine.configure(openai_base_url=None)  # api.openai.com is another server too
    assert engine.settings.openai_base_url == "http://127.0.0.1:9/v1"
    engine.configure(openai_base_url=attacker.url, openai_api_key=SecretStr("sk-for-that-server"))
    assert engine.chat_client is not None and engine.chat_client.base_url == attacker.url
    engine.configure(openai_base_url=None, openai_api_key=None)  # explicit: no key at all


def test_engine_refuses_over_long_questions_and_histories(seeded_engine: NewsRAG) -> None:
    with pytest.raises(InputTooLong, match="RAG_MAX_QUESTION_CHARS"):
        seeded_engine.ask("x" * (seeded_engine.settings.max_question_chars + 1))
    with pytest.raises(InputTooLong, match="RAG_MAX_QUESTION_CHARS"):
        seeded_engine.chat([], "x" * (seeded_engine.settings.max_question_chars + 1))
    history = [{"role": "user", "content": "y" * 1000}] * (seeded_engine.settings.max_history_chars // 1000 + 1)
    with pytest.raises(InputTooLong, match="new chat"):
        seeded_engine.chat(history, "And then?")
    assert not seeded_engine.ask(QUESTION).error  # a normal question still works


def test_a_long_chat_keeps_working_with_its_recent_turns() -> None:
    turns = [{"role": "user", "content": f"question {i} " + "z" * 90} for i in range(50)]
    kept = recent_turns(turns, 1000)
    assert kept == turns[-len(kept):] and 0 < sum(len(t["content"]) for t in kept) <= 1000


# --- uploads ---------------------------------------------------------------------------------------------
def test_an_upload_never_replaces_a_different_article(tmp_path: Path, seeded_engine: NewsRAG) -> None:
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    mine.mkdir(), theirs.mkdir()
    (mine / "report.md").write_text("# Port strike ends\n\nDock workers in Example City ended a strike on Monday.\n")
    (theirs / "report.md").write_text("# Comet seen\n\nAstronomers in Sampleton saw a bright comet on Friday.\n")
    uploads = tmp_path / "uploads"
    def upload(path: Path):  # type: ignore[no-untyped-def]
        return save_uploads([(path.name, read_upload(path, 10_000))], uploads, 10_000)

    first, second = upload(mine / "report.md"), upload(theirs / "report.md")
    again = upload(mine / "report.md")  # the same file: the same article
    assert [p.name for p in first.accepted + second.accepted + again.accepted] == ["report.md", "report-2.md",
                                                                                  "report.md"]
    assert second.renamed == [("report.md", "report-2.md")] and not again.renamed
    assert "Port strike" in (uploads / "report.md").read_text() and "Comet" in (uploads / "report-2.md").read_text()


def _port_open(base_url: str) -> bool:
    host, port = base_url.split("//")[1].split("/")[0].split(":")
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) == 0


@pytest.mark.slow
def test_replacing_the_local_model_stops_its_server(tmp_path: Path) -> None:
    engine = NewsRAG(Settings(data_dir=tmp_path / "data", llm="local", local_context=1024))
    first = engine.chat_client
    assert first is not None and first.base_url and _port_open(first.base_url)
    engine.configure(local_context=2048)  # another server for the same file: the old one goes
    assert not _port_open(first.base_url)
    second = engine.chat_client
    assert second is not None and second.base_url and _port_open(second.base_url)
    engine.configure(llm="extractive")
    assert not _port_open(second.base_url)


@pytest.fixture(params=["rag ui", "rag serve"])
def visited_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, NewsRAG]]:
    """The page as each command serves it: launched alone, and mounted beside the HTTP API."""
    from rag.service import serve_in_thread
    from ui.launcher import build_server_app

    engine = NewsRAG(Settings(data_dir=tmp_path / "data", llm="extractive", ui_examples=0))
    if request.param == "rag ui":
        engine.ingest([SEEDS])
        app = build_app(engine)
        yield launch(app, port=free_port(), block=False), engine
        app.close()
    else:
        with serve_in_thread(build_server_app(engine, seed_dir=SEEDS, say=lambda _: None)) as url:
            yield url + "/", engine


def test_a_visitor_cannot_upload_a_file_of_the_server_by_naming_it(visited_app: tuple[str, NewsRAG],
                                                                    tmp_path: Path) -> None:
    """The upload event takes file paths: one the visitor did not upload is refused, not indexed and
    quoted to everyone (under `rag serve` Gradio skipped its own check, session 44)."""
    url, engine = visited_app
    secret = tmp_path / "server-notes.txt"
    secret.write_text(SECRET_BYTES * 20)
    before = {d.source for d in engine.documents()}
    visitor = Visitor(url)
    upload = next(i for i, d in enumerate(visitor.deps)
                  if any(visitor.components[c]["type"] == "file" for c in d["inputs"]))
    visitor.call(upload, [[{"path": str(secret), "meta": {"_type": "gradio.FileData"}}]])
    assert {d.source for d in engine.documents()} == before
    assert all("ZQXW" not in hit.text for hit in engine.search("ZQXW private to the server"))
    assert not any("ZQXW" in text for text in visitor.seen)


def test_a_visitor_cannot_make_the_server_fetch_a_file_named_by_url(visited_app: tuple[str, NewsRAG]) -> None:
    """Named by an http(s) URL in the upload event, a file was downloaded by Gradio on the server, whole into
    memory and of any size, before the upload handler ran: any visitor could make the server fetch any public
    URL. The event is refused before Gradio reads it; the page's own uploads (a path) go on as before."""
    url, engine = visited_app
    before = {d.source for d in engine.documents()}
    visitor = Visitor(url)
    upload = next(i for i, d in enumerate(visitor.deps)
                  if any(visitor.components[c]["type"] == "file" for c in d["inputs"]))
    for named in ("https://example.org/big.txt", "HTTP://93.184.215.14/robots.txt", " ftp://example.org/a.txt"):
        body = {"data": [[{"path": named, "orig_name": "a.txt", "meta": {"_type": "gradio.FileData"}}], []],
                "fn_index": upload, "session_hash": visitor.session, "event_data": None, "trigger_id": None}
        for route in ("gradio_api/queue/join", "gradio_api/run/predict"):
            response = visitor.http.post(url + route, json=body)
            assert response.status_code == 400 and "not named by a URL" in response.json()["error"]["message"], named
        # whatever the Content-Type claims: a second header that is not JSON got past a check of the last one
        twice = visitor.http.post(url + "gradio_api/queue/join", content=json.dumps(body).encode(),
                                  headers=[("Content-Type", "application/json"), ("Content-Type", "text/plain")])
        assert twice.status_code == 400, named
    assert {d.source for d in engine.documents()} == before
    [cached] = visitor.http.post(url + "gradio_api/upload", files={"files": ("brief.txt", b"Brief\n\nThe Osterby "
                                                                              b"council met on Monday.")}).json()
    visitor.call(upload, [[{"path": cached, "orig_name": "brief.txt", "meta": {"_type": "gradio.FileData"}}], []])
    assert "brief.txt" in {d.source_name for d in engine.documents()}


def test_a_visitor_cannot_remove_the_server_s_articles_nor_another_visitor_s_upload(
        visited_app: tuple[str, NewsRAG]) -> None:
    """Any visitor could remove any article, the seeds included, then any other visitor's upload, and so
    change what everyone is answered: the remove picker lists only the uploads whose removal keys this
    browser holds, and the engine refuses the rest whatever keys the page sends; the uploader's key works."""
    url, engine = visited_app
    intake, _ = engine.ingest_uploads([("tram.txt", b"Tram line opens\n\nThe Osterby tram line opened on Monday.")])
    assert intake.removal_key  # another visitor's upload, and the key that visitor's browser holds
    before = {d.doc_id for d in engine.documents()}
    visitor = Visitor(url)
    library, remove = visitor.fn_index("library"), visitor.fn_index("remove")

    def picker(keys: object) -> list[object]:  # the page load: the choices for the keys this browser holds
        return json.loads(visitor.call(library, [keys]))["data"][1]["choices"]

    near = intake.removal_key[:-1] + ("B" if intake.removal_key.endswith("A") else "A")  # one character off
    forged = ["guess", "x" * 32, near, {"key": intake.removal_key}, "y" * 10_000]
    assert picker(None) == [] and picker(forged) == []
    for doc_id in sorted(before):
        visitor.call(remove, [doc_id, forged])
    assert {d.doc_id for d in engine.documents()} == before
    tram = next(d.doc_id for d in engine.documents() if d.source_name == "tram.txt")
    assert [value for _, value in picker(["guess", intake.removal_key])] == [tram]  # the uploader's browser
    visitor.call(remove, [tram, ["guess", intake.removal_key]])
    assert tram not in {d.doc_id for d in engine.documents()}


@pytest.mark.parametrize("command", ["rag ui", "rag serve"])
def test_files_posted_to_the_upload_route_do_not_stay_on_the_server(tmp_path: Path, command: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Gradio keeps what its upload route receives: a visitor could post file after file, never index
    one, and fill the server's disk. The page's cache is emptied on a schedule (hourly; here each second)."""
    import ui.app
    from rag.service import serve_in_thread
    from ui.launcher import build_server_app

    monkeypatch.setattr(ui.app, "UPLOAD_CACHE_SECONDS", 1)
    engine = NewsRAG(Settings(data_dir=tmp_path / "data", llm="extractive", ui_examples=0))
    with contextlib.ExitStack() as running:
        if command == "rag ui":
            app = build_app(engine)
            url = launch(app, port=free_port(), block=False)
            running.callback(app.close)
        else:
            url = running.enter_context(serve_in_thread(build_server_app(engine, seed_dir=SEEDS, say=lambda _: None)))
            url += "/"
        [cached] = httpx.post(url + "gradio_api/upload", files={"files": ("junk.txt", b"x" * 1000)}, timeout=30).json()
        assert Path(cached).is_file()
        deadline = time.monotonic() + 20
        while Path(cached).exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not Path(cached).exists()


def test_one_visitor_gets_one_answer_at_a_time_and_cannot_hold_up_the_others(tmp_path: Path) -> None:
    """The page's queue took any number of questions from one session: 60 queued by one visitor made
    another's question wait for all of them. A second question while the first is being answered is
    refused at once; another visitor's waits only for a free slot."""
    from rag.service import AnswerSlots

    engine = NewsRAG(Settings(data_dir=tmp_path / "data", llm="extractive", ui_examples=0))
    engine.ingest([SEEDS])
    slots = AnswerSlots(1)
    app = build_app(engine, slots)
    url = launch(app, port=free_port(), block=False)
    try:
        flooder, other = Visitor(url), Visitor(url)
        ask = flooder.fn_index("ask")
        with slots.turn():  # the model is busy with someone else's answer
            flooder.start(ask, [QUESTION, None])
            deadline = time.monotonic() + 30
            while slots.waiting < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert slots.waiting == 1  # the first question waits for the model
            refused: list[str] = []  # waited for on a thread: were it queued, it would wait for the model too
            asking = threading.Thread(target=lambda: refused.append(flooder.call(ask, [QUESTION, None])), daemon=True)
            asking.start()
            asking.join(20)
            assert refused and "still being answered" in refused[0]
            other.start(ask, [QUESTION, None])
            while slots.waiting < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert slots.waiting == 2  # another visitor's question is not refused: it waits its turn
        for visitor in (flooder, other):  # each one's turn is free again once its question is answered
            deadline = time.monotonic() + 30
            while "still being answered" in (reply := visitor.call(ask, [QUESTION, None])) \
                    and time.monotonic() < deadline:
                time.sleep(0.2)
            assert "64.1 billion" in reply
    finally:
        app.close()


def test_an_error_a_visitor_causes_does_not_show_the_server_s_paths(visited_app: tuple[str, NewsRAG]) -> None:
    """A relative file path in the upload event came back as "Cannot move /the/server/cwd/x.json ...":
    only messages written for visitors (gr.Error) reach the page."""
    url, _ = visited_app
    visitor = Visitor(url)
    upload = next(i for i, d in enumerate(visitor.deps)
                  if any(visitor.components[c]["type"] == "file" for c in d["inputs"]))
    reply = visitor.call(upload, [[{"path": "x.json", "meta": {"_type": "gradio.FileData"}}]])
    assert "error" in reply and os.getcwd() not in reply and "x.json" not in reply


def test_a_visitor_picks_only_the_backends_the_operator_offers(visited_app: tuple[str, NewsRAG]) -> None:
    """On a server set to extractive, a visitor cannot make it load the local model (gigabytes, every
    core) or spend an OpenAI key found in its environment: only RAG_UI_BACKENDS offers those."""
    url, engine = visited_app
    engine.settings = engine.settings.model_copy(update={"openai_api_key": SecretStr(KEY)})  # as if in the env
    visitor = Visitor(url)
    apply = visitor.fn_index("apply")
    for backend in ("local", "openai"):
        data = visitor.defaults(apply)
        data[0] = backend
        reply = visitor.call(apply, data)
        assert "Applied." not in reply and ("Not applied" in reply or "not in the list of choices" in reply)
    assert "extractive" in visitor.chat("How much has the US government contributed to Ukraine's war effort?")
    assert engine.__dict__.get("chat_client") is None  # no model client was ever made


def test_another_site_s_page_gets_nothing_from_the_ui(visited_app: tuple[str, NewsRAG]) -> None:
    """The page is served without a login on loopback: a site whose name resolves to 127.0.0.1 (DNS
    rebinding) gets a 403, and so does another site's form POST to the upload route; the page's own
    requests still work."""
    url, _ = visited_app
    assert httpx.get(url, headers={"Host": "rebind.evil.example"}).status_code == 403
    upload = ("files", ("notes.txt", b"Ferry fares in Oban rise by 8 percent from May.", "text/plain"))
    assert httpx.post(url + "gradio_api/upload", files=[upload], headers={"Origin": "https://evil.example"}).status_code == 403
    assert httpx.post(url + "gradio_api/upload", files=[upload], headers={"Origin": url.rstrip("/")}).status_code == 200
    assert Visitor(url).components  # the page's own config still loads
