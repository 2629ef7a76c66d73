"""One answer queue for the page and the API (`rag serve`, issue #16).

The server is `rag serve`'s app (`build_server_app`: the HTTP API with the UI mounted at /) on 127.0.0.1,
called as a browser calls the page (``Visitor``, which speaks Gradio's queue protocol) and as a client calls
the API (httpx). A chat answer on the page holds the model's one slot and ``/healthz`` counts it; an API
request waits in the same queue meanwhile; both finish. A visitor who closes the tab mid-answer gives the
slot back.

The model is a fake OpenAI-compatible server that holds every answer until the test lets it go, writing a
blank token every 50 ms meanwhile as a model does: the extractive backend answers in milliseconds and the
local model in seconds that vary with the machine's load, so neither can show "the API request waits while
the page's answer runs" reliably. Everything else (retrieval, the answer check, Gradio's queue, the API,
the slots) is the real thing.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from rag import NewsRAG, Settings
from rag.service import serve_in_thread
from tests.conftest import SEEDS
from tests.test_service import FUNDING_QUESTION
from tests.test_ui_security import Visitor
from ui.launcher import build_server_app

ANSWER = "The US has given $64.1 billion [1]."


class HeldModel:
    """An OpenAI-compatible streaming chat server whose answers wait for ``release``; counts how many
    answers it is writing at once (``writing``, ``most``), how many it was asked for and how many
    clients left mid-answer."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.asked = self.writing = self.most = self.left = 0
        model = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                body = json.dumps({"data": [{"id": "fake-model", "object": "model"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with model.lock:
                    model.asked += 1
                    model.writing += 1
                    model.most = max(model.most, model.writing)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    while not model.release.wait(0.05):
                        self._delta(" ")
                    self._delta(ANSWER)
                    self.wfile.write(b"data: [DONE]\n\n")
                except OSError:  # the client closed the stream: the engine stopped the answer
                    with model.lock:
                        model.left += 1
                finally:
                    with model.lock:
                        model.writing -= 1

            def _delta(self, text: str) -> None:
                chunk = {"choices": [{"index": 0, "delta": {"content": text}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def hold(self) -> None:
        self.release.clear()
        with self.lock:
            self.asked = self.most = self.left = 0

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def model() -> Iterator[HeldModel]:
    held = HeldModel()
    yield held
    held.close()


@pytest.fixture(scope="module")
def base_url(model: HeldModel, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`rag serve` over the seeds, answering with the held model through one answer slot."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("shared-queue"), llm="openai", openai_base_url=model.url,
                        openai_api_key=SecretStr("sk-test"), openai_model="fake-model", api_parallel=1,
                        ui_examples=0,  # the queue's counts here are the visitors' answers alone
                        answer_cache=0)  # and every one of them reaches the model: the tests ask one question
    engine = NewsRAG(settings)
    assert len(engine.ingest([SEEDS]).added) == 5
    with serve_in_thread(build_server_app(engine, with_ui=True, say=lambda _: None)) as url:
        yield url


def health(url: str) -> dict[str, object]:
    return httpx.get(f"{url}/healthz", timeout=10).json()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_chat(url: str, question: str) -> tuple[Visitor, int, list[object]]:
    """A visitor types ``question`` and presses Ask: the ``respond`` event and its data, not yet sent."""
    visitor = Visitor(f"{url}/")
    visitor.call(visitor.fn_index("take_question"), [question])
    respond = visitor.fn_index("respond")
    data = visitor.defaults(respond)
    data[1] = []  # the chatbot starts empty
    return visitor, respond, data


def test_an_api_request_waits_while_the_page_answers_and_both_finish(base_url: str, model: HeldModel) -> None:
    model.hold()
    visitor, respond, data = start_chat(base_url, FUNDING_QUESTION)
    page: dict[str, str] = {}
    on_page = threading.Thread(target=lambda: page.update(text=visitor.call(respond, data)))
    on_page.start()
    wait_for(lambda: model.writing == 1, "the page's answer to reach the model")
    assert health(base_url)["answering"] == 1  # the page's answer is counted: it holds the slot

    api: dict[str, httpx.Response] = {}
    over_api = threading.Thread(target=lambda: api.update(
        response=httpx.post(f"{base_url}/v1/ask", json={"question": FUNDING_QUESTION}, timeout=60)))
    over_api.start()
    wait_for(lambda: health(base_url)["queued"] == 1, "the API request to queue")
    time.sleep(1.0)  # long enough for a second answer to reach the model, were it let through
    assert {k: health(base_url)[k] for k in ("answering", "queued")} == {"answering": 1, "queued": 1}
    assert model.asked == 1 and not api, "the API request did not wait for the page's answer"

    model.release.set()
    on_page.join(timeout=60)
    over_api.join(timeout=60)
    assert not on_page.is_alive() and not over_api.is_alive()
    finals = [json.loads(line[5:]) for line in page["text"].splitlines() if '"process_completed"' in line]
    assert finals and finals[-1]["success"], page["text"][-2000:]
    assert "fake-model" in json.dumps(finals[-1]["output"])  # the answer's footer names the model
    assert api["response"].status_code == 200, api["response"].text
    assert api["response"].json()["error"] is None and api["response"].json()["model"] == "fake-model"
    assert model.asked == 2 and model.most == 1  # one answer at a time, as the slots allow
    assert {k: health(base_url)[k] for k in ("answering", "queued")} == {"answering": 0, "queued": 0}


def test_a_visitor_who_leaves_mid_answer_gives_the_slot_back(base_url: str, model: HeldModel) -> None:
    model.hold()
    visitor, respond, data = start_chat(base_url, FUNDING_QUESTION)
    visitor.start(respond, data)
    with visitor.http.stream("GET", f"{base_url}/gradio_api/queue/data", params={"session_hash": visitor.session}):
        wait_for(lambda: model.writing == 1, "the page's answer to reach the model")
        assert health(base_url)["answering"] == 1
    visitor.http.close()  # the tab is closed: no Stop, no cancel, the connection just goes
    wait_for(lambda: health(base_url)["answering"] == 0, "the slot to be given back", timeout=20)
    wait_for(lambda: model.writing == 0, "the model's stream to be closed", timeout=10)
    assert model.left == 1 and not model.release.is_set()  # stopped mid-answer, not run to its end

    model.release.set()  # the next question gets the free slot at once
    response = httpx.post(f"{base_url}/v1/ask", json={"question": FUNDING_QUESTION}, timeout=30)
    assert response.status_code == 200 and response.json()["error"] is None
    assert {k: health(base_url)[k] for k in ("answering", "queued")} == {"answering": 0, "queued": 0}


def test_an_ask_api_caller_who_leaves_mid_answer_stops_it_and_gives_the_slot_back(base_url: str,
                                                                                model: HeldModel) -> None:
    """The page's public ``ask`` API, called by a script that gives up: its answer stops, as a chat turn's
    does. (It used to run to its end for nobody, holding the model's one slot meanwhile.)"""
    model.hold()
    caller = Visitor(f"{base_url}/")
    caller.start(caller.fn_index("ask"), [FUNDING_QUESTION, []])
    with caller.http.stream("GET", f"{base_url}/gradio_api/queue/data", params={"session_hash": caller.session}):
        wait_for(lambda: model.writing == 1, "the API call's answer to reach the model")
        assert health(base_url)["answering"] == 1
    caller.http.close()  # the script is killed: the connection just goes
    wait_for(lambda: health(base_url)["answering"] == 0, "the slot to be given back", timeout=20)
    wait_for(lambda: model.writing == 0, "the model's stream to be closed", timeout=10)
    assert model.left == 1 and not model.release.is_set()  # stopped mid-answer, not run to its end


def test_the_ask_api_sends_progress_then_the_checked_answer(base_url: str, model: HeldModel) -> None:
    """A caller that stays gets updates while the answer is made (none with unchecked words), then the
    checked text and its JSON."""
    model.release.set()
    caller = Visitor(f"{base_url}/")
    text = caller.call(caller.fn_index("ask"), [FUNDING_QUESTION, []])
    events = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
    final = next(e for e in events if e.get("msg") == "process_completed")
    answer, details = final["output"]["data"][0]  # one output: the pair
    assert final["success"] and details["model"] == "fake-model" and details["error"] is None
    assert answer == details["answer"] and "$64.1 billion" in answer and details["citations"]
    progress = [e for e in events if e.get("msg") == "process_generating"]  # the last one carries the final
    assert progress[0]["output"]["data"] == [["", {}]] and "64.1" not in json.dumps(progress[:-1])


def test_an_app_alone_gets_a_queue_of_its_own_sized_for_its_backend(tmp_path: Path) -> None:
    """`rag serve` hands the API's queue to the page (the tests above show them waiting in one line);
    the API or `rag ui` alone get a queue of their own: the local model answers one at a time."""
    from rag.service import build_service

    engine = NewsRAG(Settings(data_dir=tmp_path / "data", llm="extractive", api_parallel=3))
    local = NewsRAG(Settings(data_dir=tmp_path / "other", llm="local"))
    assert build_service(engine).state.slots is not build_service(engine).state.slots
    assert build_service(engine).state.slots.slots == 3 and build_service(local).state.slots.slots == 1
