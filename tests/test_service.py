"""The HTTP API (`rag serve`): a real uvicorn server on 127.0.0.1, asked by the official `openai` client and httpx.

One server per module, on its own copy of the seeds index, protected by a bearer token, with the UI
mounted at / as `rag serve` does. Answers come from the `extractive` backend (instant, deterministic),
except in the slow test, which loads the local model.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from rag import NewsRAG, Settings
from rag.service import AnswerSlots, build_service, serve_in_thread
from tests.conftest import SEEDS, free_port, wait_for_http
from ui.launcher import build_server_app

TOKEN = "test-token-5f2c"
FUNDING_QUESTION = "How much has the US government contributed to Ukraine's war effort?"
UNANSWERABLE = "Who won the 1998 World Cup final?"
RAG = str(Path(sys.executable).parent / "rag")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> NewsRAG:
    engine = NewsRAG(Settings(data_dir=tmp_path_factory.mktemp("service"), llm="extractive", api_token=TOKEN))
    assert len(engine.ingest([SEEDS]).added) == 5
    return engine


@pytest.fixture(scope="module")
def base_url(engine: NewsRAG) -> Iterator[str]:
    with serve_in_thread(build_server_app(engine, with_ui=True, say=lambda _: None)) as url:
        yield url


@pytest.fixture()
def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=TOKEN, max_retries=0, timeout=60)


@pytest.fixture()
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http:
        yield http


def ask_chat(client: openai.OpenAI, question: str, history: list[dict[str, str]] | None = None):  # type: ignore[no-untyped-def]
    return client.chat.completions.create(model="news-rag",
                                          messages=[*(history or []), {"role": "user", "content": question}])


# --- the openai client -----------------------------------------------------------------------------------
def test_models_lists_news_rag(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["news-rag"]


def test_chat_completion_keeps_markers_and_carries_citations(client: openai.OpenAI, engine: NewsRAG) -> None:
    response = ask_chat(client, FUNDING_QUESTION)
    text = response.choices[0].message.content
    assert "64.1 billion" in text and "[1]" in text
    assert response.choices[0].finish_reason == "stop"
    citations = response.model_extra["citations"]
    first = citations[0]
    assert first["n"] == 1 and "64.1 billion" in first["quote"]
    assert first["source"] == "001_c788a5a7159858c4.txt"  # the seed that reports the $64.1 billion
    assert first["end"] - first["start"] == len(first["quote"])  # offsets locate the quote in its article
    [cited] = [doc for doc in engine.documents() if doc.doc_id == first["doc_id"]]
    assert "published" in first and first["published"] == cited.published  # the quote's day (none for the seeds)
    assert response.model_extra["refused"] is False
    assert response.model_extra["confidence"] >= engine.settings.extractive_min_confidence  # why it answered


def test_streamed_answer_is_the_same_answer_with_citations_at_the_end(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="news-rag", stream=True, stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": FUNDING_QUESTION}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "64.1 billion" in text and "[1]" in text
    final = next(c for c in chunks if c.choices and c.choices[0].finish_reason == "stop")
    assert final.model_extra["citations"][0]["n"] == 1
    assert chunks[-1].usage is not None and not chunks[-1].choices
    assert text == ask_chat(client, FUNDING_QUESTION).choices[0].message.content


def test_unanswerable_question_is_a_refusal_without_citations(client: openai.OpenAI) -> None:
    response = ask_chat(client, UNANSWERABLE)
    assert response.model_extra["refused"] is True and response.model_extra["citations"] == []
    assert "could not find" in response.choices[0].message.content.lower()


def test_follow_up_is_answered_in_the_context_of_the_conversation(client: openai.OpenAI) -> None:
    history = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": FUNDING_QUESTION},
               {"role": "assistant", "content": "$64.1 billion [1]."}]
    response = ask_chat(client, "And since when?", history)
    assert "Ukraine" in response.model_extra["question"]  # rewritten to stand alone before retrieval
    assert response.model_extra["refused"] is False


def test_wrong_token_is_401(base_url: str) -> None:
    wrong = openai.OpenAI(base_url=f"{base_url}/v1", api_key="not-the-token", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        ask_chat(wrong, FUNDING_QUESTION)
    assert "RAG_API_TOKEN" in caught.value.message
    assert httpx.get(f"{base_url}/v1/documents").status_code == 401


def test_oversize_question_is_refused_with_the_setting_to_change(client: openai.OpenAI, engine: NewsRAG) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        ask_chat(client, "why " * engine.settings.max_question_chars)
    assert caught.value.status_code == 413  # refused before it queues for the model
    assert "RAG_MAX_QUESTION_CHARS" in caught.value.message


def test_unknown_model_and_bad_messages_are_clear_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="news-rag"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.UnprocessableEntityError, match="last message"):
        client.chat.completions.create(model="news-rag", messages=[{"role": "assistant", "content": "hi"}])
    with pytest.raises(openai.UnprocessableEntityError, match="n: Input should be less than or equal to 1"):
        client.chat.completions.create(model="news-rag", n=2, messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.UnprocessableEntityError, match="stream: Input should be a valid boolean"):
        client.chat.completions.create(model="news-rag", messages=[{"role": "user", "content": "hi"}],
                                       extra_body={"stream": "yes"})


# --- /v1/ask, documents, errors -----------------------------------------------------------------------------
def test_ask_returns_the_cli_json_shape(http: httpx.Client, engine: NewsRAG) -> None:
    response = http.post("/v1/ask", json={"question": FUNDING_QUESTION, "k": 2})
    assert response.status_code == 200
    body = response.json()
    expected = engine.ask(FUNDING_QUESTION).to_dict()
    # k=2 reads fewer passages: timings differ, and the confidence in the last digits (the sentences are
    # embedded in another batch); the answer is the same. Either may come from the answer cache, as
    # earlier tests asked the question too.
    assert body["confidence"] == pytest.approx(expected["confidence"], abs=1e-6)
    assert body == {**expected, "timings": body["timings"], "closest": body["closest"],
                    "confidence": body["confidence"], "cached": body["cached"]}
    assert len(body["closest"]) <= 2 and "64.1 billion" in body["answer"]


def test_ask_filters_are_validated_and_applied(http: httpx.Client) -> None:
    bad = http.post("/v1/ask", json={"question": FUNDING_QUESTION,
                                     "filters": {"published_from": "2025-02-01", "published_to": "2025-01-01"}})
    assert bad.status_code == 422 and "published_from must be before published_to" in bad.json()["error"]["message"]
    nowhere = http.post("/v1/ask", json={"question": FUNDING_QUESTION, "filters": {"sources": ["nope.txt"]}})
    assert nowhere.status_code == 200 and nowhere.json()["refused"]
    # A date with a zone beside one without (a TypeError) and a year out of range (a DateError) were 500s
    mixed = http.post("/v1/ask", json={"question": FUNDING_QUESTION, "filters": {
        "published_from": "2025-02-01T00:00:00+01:00", "published_to": "2025-01-01"}})
    assert mixed.status_code == 422 and "published_from must be before published_to" in mixed.json()["error"]["message"]
    far = http.post("/v1/ask", json={"question": FUNDING_QUESTION, "filters": {"published_from": "2200-01-01"}})
    assert far.status_code == 422 and "after 2100" in far.json()["error"]["message"]
    unknown = http.post("/v1/ask", json={"question": FUNDING_QUESTION, "top": 3})
    assert unknown.status_code == 422 and "top" in unknown.json()["error"]["message"]


def test_upload_list_delete_and_ask_again(http: httpx.Client, engine: NewsRAG) -> None:
    """Deleting through the API deletes the uploaded file too (it stayed on the server); a file that
    indexing refuses as a whole is not kept either."""
    uploads = Path(engine.settings.data_dir) / "uploads"
    article = (b"Harbour town opens floating library\n\nThe town of Wexmoor opened a floating library on its "
               b"harbour on Monday. The barge holds 4,200 books and was paid for by a local fishing cooperative.\n")
    response = http.post("/v1/documents", files=[("files", ("wexmoor library.txt", article, "text/plain")),
                                                 ("files", ("photo.png", b"\x89PNG\r\n", "image/png")),
                                                 ("files", ("empty page.html", b"<html><body> </body></html>",
                                                            "text/html"))])
    assert not (uploads / "empty_page.html").exists()
    assert (uploads / "wexmoor_library.txt").is_file()
    assert response.status_code == 201, response.text
    report = response.json()
    assert len(report["added"]) == 1 and "unsupported type '.png'" in report["rejected"][0]["reason"]
    assert [r["file"] for r in report["rejected"]] == ["photo.png", "empty page.html"]
    doc_id = report["added"][0]
    key = {"X-Removal-Key": report["removal_key"]}
    question = {"question": "How many books does the Wexmoor floating library hold?"}
    # an upload is read by its uploader's questions only: another caller neither lists nor is answered from it,
    # nor sees that it arrived (/healthz counted passages, uploads included)
    assert set(http.get("/healthz").json()) == {"status", "backend", "answering", "queued"}
    assert doc_id not in {d["id"] for d in http.get("/v1/documents").json()["data"]}
    stranger = http.post("/v1/ask", json=question).json()
    assert all(c["doc_id"] != doc_id for c in stranger["citations"])
    assert doc_id in {d["id"] for d in http.get("/v1/documents", headers=key).json()["data"]}
    answer = http.post("/v1/ask", json=question, headers=key).json()
    assert "Wexmoor" in answer["answer"] and answer["citations"][0]["doc_id"] == doc_id
    chat = http.post("/v1/chat/completions", headers={"X-Removal-Key": f"other-key, {report['removal_key']}"},
                     json={"model": "news-rag", "messages": [{"role": "user", "content": question["question"]}]})
    assert chat.json()["citations"][0]["doc_id"] == doc_id  # keys comma-separated, as several uploads gave them
    # a visitor's upload says so wherever it is shown: it may carry any title and publisher
    assert answer["citations"][0]["uploaded"] is True
    cited = answer["citations"][0]
    stored = http.get(f"/v1/documents/{doc_id}", headers=key).json()  # the text a citation's offsets index
    assert stored["text"][cited["start"]:cited["end"]] == cited["quote"] and stored["uploaded"] is True
    assert http.get(f"/v1/documents/{doc_id}").status_code == 404  # not another caller's to read
    listed = {d["id"]: d["uploaded"] for d in http.get("/v1/documents", headers=key).json()["data"]}
    assert listed[doc_id] is True and list(listed.values()).count(True) == 1
    seed_answer = http.post("/v1/ask", json={"question": FUNDING_QUESTION}, headers=key).json()
    assert seed_answer["citations"] and not any(c["uploaded"] for c in seed_answer["citations"])
    assert http.delete(f"/v1/documents/{doc_id}", headers=key).json()["deleted"] is True
    assert not (uploads / "wexmoor_library.txt").exists()
    assert doc_id not in {d["id"] for d in http.get("/v1/documents", headers=key).json()["data"]}
    again = http.delete(f"/v1/documents/{doc_id}", headers=key)
    assert again.status_code == 404 and "GET /v1/documents" in again.json()["error"]["message"]
    after = http.post("/v1/ask", json=question, headers=key).json()
    assert after["refused"] and all(c["doc_id"] != doc_id for c in after["citations"])


def test_a_visitor_can_neither_remove_nor_impersonate_the_server_s_own_articles(http: httpx.Client,
                                                                              engine: NewsRAG) -> None:
    """Any visitor could delete every seed (then everyone's questions were refused), and an upload named as
    a seed's file, with its title, was cited as that article with whatever it said."""
    seed = next(d for d in engine.documents() if d.source_name.endswith(".txt") and "uploads" not in d.source)
    refused = http.delete(f"/v1/documents/{seed.doc_id}")
    assert refused.status_code == 403 and "rag remove" in refused.json()["error"]["message"]
    assert seed.doc_id in {d.doc_id for d in engine.documents()}

    forged = f"{seed.title}\n\nThe meeting took place at a supermarket, officials said.\n".encode()
    many = [("files", (f"note {n}.txt", b"Brief " + str(n).encode() + b"\n\nA short note.", "text/plain"))
            for n in range(21)]
    report = http.post("/v1/documents", files=[("files", (seed.source_name, forged, "text/plain")), *many]).json()
    stem = seed.source_name.removesuffix(".txt")
    assert {d.source_name for d in engine.documents() if d.doc_id in report["added"]} >= {f"{stem}-2.txt"}
    assert [r["file"] for r in report["rejected"]] == ["note 19.txt", "note 20.txt"]  # the 21st and 22nd
    assert "more than 20 files" in report["rejected"][0]["reason"]
    for doc_id in report["added"]:  # uploads are removable, by their uploader
        assert http.delete(f"/v1/documents/{doc_id}",
                           headers={"X-Removal-Key": report["removal_key"]}).json()["deleted"] is True


def test_only_the_visitor_who_uploaded_an_article_can_remove_it(http: httpx.Client, engine: NewsRAG) -> None:
    """Any visitor holding the server's token (every visitor of a shared UI) could remove any other
    visitor's upload, and so take away the articles another visitor was being answered from."""
    first = http.post("/v1/documents", files=[("files", ("ferry.txt", b"Ferry resumes\n\nThe Kelby ferry resumed "
                                                                      b"its crossings on Friday.", "text/plain"))]).json()
    second = http.post("/v1/documents", files=[("files", ("bridge.txt", b"Bridge shut\n\nThe Arlo bridge was shut "
                                                                        b"for repairs on Monday.", "text/plain"))]).json()
    [ferry], [bridge] = first["added"], second["added"]
    assert first["removal_key"] and second["removal_key"] and first["removal_key"] != second["removal_key"]
    held = (Path(engine.settings.data_dir) / "upload-keys.json").read_text()
    assert "ferry.txt" in held and first["removal_key"] not in held  # digests only: reading it gives no key
    nothing = http.delete(f"/v1/documents/{'0' * 16}")
    for headers in ({}, {"X-Removal-Key": second["removal_key"]}, {"X-Removal-Key": "guessed"}):
        refused = http.delete(f"/v1/documents/{ferry}", headers=headers)
        # the answer for no such document: a 403 said the upload exists, and gave its title
        assert refused.status_code == 404 and "Ferry resumes" not in refused.text, headers
        assert refused.json()["error"]["message"].replace(ferry, "") == nothing.json()["error"]["message"].replace("0" * 16, "")
    assert ferry in {d.doc_id for d in engine.documents()}
    # the same bytes sent again by the uploader are the same article; by anyone else, a copy of their own
    ferry_bytes = ("files", ("ferry.txt", b"Ferry resumes\n\nThe Kelby ferry resumed its crossings on Friday.", "text/plain"))
    again = http.post("/v1/documents", files=[ferry_bytes], headers={"X-Removal-Key": first["removal_key"]})
    assert again.json()["removal_key"] is None and len(again.json()["unchanged"]) == 1
    copy = http.post("/v1/documents", files=[ferry_bytes]).json()
    assert copy["removal_key"] and copy["renamed"] == [{"file": "ferry.txt", "saved_as": "ferry-2.txt"}]
    assert http.delete(f"/v1/documents/{copy['added'][0]}", headers={"X-Removal-Key": copy["removal_key"]}).status_code == 200
    assert http.delete(f"/v1/documents/{ferry}", headers={"X-Removal-Key": first["removal_key"]}).status_code == 200
    assert http.delete(f"/v1/documents/{bridge}", headers={"X-Removal-Key": second["removal_key"]}).status_code == 200
    # a freed name taken by a new upload belongs to its new uploader, not to the one who removed it
    third = http.post("/v1/documents", files=[("files", ("ferry.txt", b"Ferry halted\n\nThe Kelby ferry halted "
                                                                      b"in a storm on Sunday.", "text/plain"))]).json()
    [halted] = third["added"]
    assert http.delete(f"/v1/documents/{halted}", headers={"X-Removal-Key": first["removal_key"]}).status_code == 404
    assert http.delete(f"/v1/documents/{halted}", headers={"X-Removal-Key": third["removal_key"]}).status_code == 200


def test_uploads_past_the_two_in_flight_get_a_429_and_the_server_stays_responsive(engine: NewsRAG) -> None:
    """Uploads index one at a time: 45 waiting ones held every worker thread, and /healthz timed out."""
    service = NewsRAG(engine.settings.model_copy(update={"api_token": None}))
    statuses: list[int] = []
    with serve_in_thread(build_service(service)) as url:
        def upload(n: int) -> None:
            files = [("files", (f"brief {n}.txt", f"Brief {n}\n\nThe council met on day {n}.".encode(), "text/plain"))]
            statuses.append(httpx.post(f"{url}/v1/documents", files=files, timeout=60).status_code)

        with service._writing:  # an ingestion under way (rag ingest, or a big upload)
            waiting = [threading.Thread(target=upload, args=(n,)) for n in range(2)]
            for thread in waiting:
                thread.start()
            time.sleep(1)
            upload(2)
            assert statuses == [429]
            assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        for thread in waiting:
            thread.join(60)
    assert statuses == [429, 201, 201]
    for doc in service.documents():
        if doc.uploaded:
            service.remove(doc.doc_id)


def test_an_upload_s_skip_reasons_do_not_show_the_server_s_folders(http: httpx.Client, engine: NewsRAG) -> None:
    """A duplicate line's reason named the file by its path on the server."""
    line = b'{"id": "a", "title": "Port strike", "text": "Dockers in Antwerp went back to work on Monday."}\n'
    report = http.post("/v1/documents", files=[("files", ("dup feed.jsonl", line * 2, "text/plain"))]).json()
    [skipped] = report["rejected"]
    assert "duplicate" in skipped["reason"] and "dup_feed.jsonl" in skipped["reason"]
    assert str(engine.settings.data_dir) not in skipped["reason"] and "/" not in skipped["reason"].split("jsonl")[0]
    for doc_id in report["added"]:
        http.delete(f"/v1/documents/{doc_id}", headers={"X-Removal-Key": report["removal_key"]})


def test_an_upload_whose_date_cannot_be_read_is_indexed_with_a_warning(http: httpx.Client, engine: NewsRAG) -> None:
    feed = (b'{"id": "q1", "title": "Quay lights", "text": "The Dunmore quay lights were switched on.", '
            b'"published": "N/A"}\n')
    response = http.post("/v1/documents", files=[("files", ("quay feed.jsonl", feed, "application/jsonl"))])
    assert response.status_code == 201, response.text
    [warning] = response.json()["warnings"]
    assert warning["where"] == "quay_feed.jsonl line 1" and "indexed without a date" in warning["reason"]
    assert str(engine.settings.data_dir) not in response.text  # no server folder in what a visitor reads
    [added] = response.json()["added"]
    assert http.delete(f"/v1/documents/{added}",
                       headers={"X-Removal-Key": response.json()["removal_key"]}).status_code == 200


@pytest.mark.parametrize(("field", "said"), [
    ({"response_format": {"type": "json_object"}}, "response_format 'json_object'"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}}, "json_schema"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}], "tool_choice": "required"},
     "tool_choice"),
    ({"logprobs": True, "top_logprobs": 2}, "logprobs"), ({"temperature": 5}, "temperature"), ({"max_tokens": 0}, "max_tokens"),
])
def test_a_chat_field_that_promises_another_kind_of_reply_is_a_422_naming_it(http: httpx.Client, field: dict[str, object],
                                                                              said: str) -> None:
    """JSON mode, a required tool call and log probabilities were accepted and prose came back: a client
    parsing JSON or waiting for its tool call failed on its own side, with a 200."""
    plain = {"model": "news-rag", "messages": [{"role": "user", "content": FUNDING_QUESTION}]}
    response = http.post("/v1/chat/completions", json={**plain, **field})
    assert response.status_code == 422 and said in response.json()["error"]["message"], response.text
    ignored = {"max_tokens": 5, "stop": ["billion"], "seed": 1, "temperature": 0.2, "tool_choice": "auto",
               "response_format": {"type": "text"}, "logprobs": False,
               "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}
    assert http.post("/v1/chat/completions", json={**plain, **ignored}).status_code == 200  # accepted, as documented


def test_an_unknown_api_path_or_method_is_an_openai_error_not_the_page_s(http: httpx.Client, client: openai.OpenAI) -> None:
    """Under `rag serve` the page is mounted at "/": an unknown /v1 path reached Gradio ({"detail": "Not
    Found"}), and the SDK's models.retrieve failed on it."""
    assert client.models.retrieve("news-rag").id == "news-rag"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")
    missing = http.get("/v1/completions")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"
    wrong = http.get("/v1/chat/completions")
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"] and "POST" in wrong.json()["error"]["message"]
    forbidden = http.delete(f"/v1/documents/{'0' * 16}", headers={"X-Removal-Key": "guessed"})
    assert forbidden.status_code in (403, 404) and forbidden.json()["error"]["type"] in ("permission_error", "not_found_error")


def test_the_api_reference_page_needs_nothing_from_the_internet(http: httpx.Client) -> None:
    """/v1/docs loaded Swagger UI from a CDN: on a machine without the internet it stayed blank."""
    import re

    page = http.get("/v1/docs")
    assert page.status_code == 200
    links = re.findall(r'(?:src|href|url)\s*[=:]\s*[\'"]([^\'"]+)', page.text)
    assert links and all(link.startswith(("/", "data:")) for link in links), links
    assert all(http.get(link).status_code == 200 for link in links if link.startswith("/"))
    assert http.get("/v1/openapi.json").json()["paths"]["/v1/chat/completions"]


def test_a_filter_naming_too_many_sources_is_a_422(http: httpx.Client) -> None:
    """60,000 names were a 500 (Chroma: too many SQL variables)."""
    response = http.post("/v1/ask", json={"question": "Who met?", "filters": {"sources": ["a.txt"] * 101}})
    assert response.status_code == 422


def test_half_an_emoji_is_a_422_that_says_so_not_a_500(http: httpx.Client) -> None:
    """A JavaScript client that cuts a string inside an emoji sends a lone surrogate ("\\ud83d"): the
    tokenizer failed on it inside the worker, so a chat got a 500 (a stream, a 200 ending in an error)."""
    def post(path: str, body: str) -> httpx.Response:
        return http.post(path, content=body.encode(), headers={"Content-Type": "application/json"})

    question = '{"role": "user", "content": "Who met in Paris? \\ud83d"}'
    for stream in ("false", "true"):
        response = post("/v1/chat/completions", f'{{"model": "news-rag", "stream": {stream}, "messages": [{question}]}}')
        assert response.status_code == 422 and "half of a character" in response.json()["error"]["message"], stream
    history = post("/v1/chat/completions", '{"model": "news-rag", "messages": [' + question.replace("Paris", "Kyiv")
                   + ', {"role": "assistant", "content": "Nobody."}, {"role": "user", "content": "And in Paris?"}]}')
    assert history.status_code == 422 and "chat history" in history.json()["error"]["message"]
    source = post("/v1/ask", '{"question": "Who met?", "filters": {"sources": ["\\ud800.txt"]}}')
    assert source.status_code == 422 and "half of a character" in source.text
    assert http.post("/v1/ask", json={"question": "Who met in Paris?"}).status_code == 200  # and the server answers on


def test_only_unusable_uploads_are_a_422_with_reasons(http: httpx.Client) -> None:
    response = http.post("/v1/documents", files=[("files", ("data.txt", b"abc\x00\x01", "text/plain"))])
    assert response.status_code == 422 and "binary" in response.json()["error"]["message"]


def test_oversize_body_and_malformed_json_are_json_errors(http: httpx.Client) -> None:
    big = http.post("/v1/ask", content=b'{"question": "' + b"x" * (2 * 1024 * 1024) + b'"}',
                    headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and "the limit here is" in big.json()["error"]["message"]
    broken = http.post("/v1/ask", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and "Traceback" not in broken.text and broken.json()["error"]["message"]


def test_healthz_and_the_ui_share_the_port(base_url: str) -> None:
    health = httpx.get(f"{base_url}/healthz").json()
    assert health["status"] == "ok" and health["backend"] == "extractive"
    assert httpx.get(f"{base_url}/config").status_code == 401  # the UI asks for a login when the API has a token


# --- concurrency ---------------------------------------------------------------------------------------------
def test_eight_streaming_clients_for_ten_seconds_without_an_error(base_url: str) -> None:
    questions = [FUNDING_QUESTION, UNANSWERABLE, "Where did Trump and Zelensky meet?"]
    done: list[int] = []
    errors: list[str] = []
    deadline = time.monotonic() + 10

    def one_client(worker: int) -> None:
        client = openai.OpenAI(base_url=f"{base_url}/v1", api_key=TOKEN, max_retries=0, timeout=60)
        n = worker
        while time.monotonic() < deadline:
            try:
                stream = client.chat.completions.create(
                    model="news-rag", stream=True, messages=[{"role": "user", "content": questions[n % 3]}])
                text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
                assert text, "empty answer"
                done.append(worker)
            except Exception as exc:  # noqa: BLE001  (counted, then reported)
                errors.append(f"{type(exc).__name__}: {exc}")
            n += 1

    threads = [threading.Thread(target=one_client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(set(done)) == 8 and len(done) >= 8


def test_a_client_that_leaves_mid_stream_stops_its_answer(engine: NewsRAG, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's generator is closed (which closes the model's HTTP stream) when the client goes away."""
    started, closed = threading.Event(), threading.Event()

    def slow_stream(history, message, filters=None):  # type: ignore[no-untyped-def]
        started.set()
        try:
            for _ in range(200):
                time.sleep(0.05)
                yield "word "
        finally:
            closed.set()

    settings = engine.settings.model_copy(update={"api_token": None})
    quiet = NewsRAG(settings)
    monkeypatch.setattr(quiet, "stream_chat", slow_stream)
    with serve_in_thread(build_service(quiet)) as url:
        with httpx.stream("POST", f"{url}/v1/chat/completions", timeout=30,
                          json={"model": "news-rag", "stream": True,
                                "messages": [{"role": "user", "content": "anything"}]}) as response:
            assert response.status_code == 200
            next(response.iter_lines())  # the role chunk: the answer is under way
            assert started.wait(10)
        assert closed.wait(5), "the answer went on after the client left"


def test_questions_past_the_waiting_limit_get_a_429_and_the_queued_ones_their_answers(
        engine: NewsRAG, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each waiting question held a thread: 600 at once from one client made 657 threads and kept every
    other visitor waiting 105 s. Past RAG_API_MAX_WAITING the API says so at once."""
    release = threading.Event()

    def held_stream(question, filters=None, k=None):  # type: ignore[no-untyped-def]
        release.wait(30)  # the one answer slot stays busy until the test lets it go
        yield engine.ask(question)

    quiet = NewsRAG(engine.settings.model_copy(update={"api_token": None}))
    monkeypatch.setattr(quiet, "stream", held_stream)
    slots = AnswerSlots(1, max_waiting=2)
    statuses: list[int] = []
    with serve_in_thread(build_service(quiet, slots=slots)) as url:
        def ask() -> None:
            statuses.append(httpx.post(f"{url}/v1/ask", json={"question": FUNDING_QUESTION}, timeout=60).status_code)

        queued = [threading.Thread(target=ask) for _ in range(3)]  # one answering, two waiting
        for thread in queued:
            thread.start()
        deadline = time.monotonic() + 10
        while (slots.running, slots.waiting) != (1, 2) and time.monotonic() < deadline:
            time.sleep(0.05)
        refused = httpx.post(f"{url}/v1/ask", json={"question": FUNDING_QUESTION}, timeout=60)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "5"
        assert "queue is full: 2 questions may wait" in refused.json()["error"]["message"]  # the limit, not a count past it
        release.set()
        for thread in queued:
            thread.join(60)
    assert statuses == [200, 200, 200]


# --- who may connect ----------------------------------------------------------------------------------------
def test_public_host_without_token_is_refused(tmp_path: Path) -> None:
    result = subprocess.run([RAG, "--data-dir", str(tmp_path), "serve", "--host", "0.0.0.0",
                             "--port", str(free_port())], capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RAG_LLM": "extractive"})
    assert result.returncode == 1
    assert "refusing to listen on 0.0.0.0" in result.stderr and "RAG_API_TOKEN" in result.stderr


def test_rag_serve_answers_and_a_second_one_on_its_port_says_the_port_is_taken(tmp_path: Path) -> None:
    """A second ``rag serve`` on a taken port printed the first's success banner, then uvicorn's raw
    "[Errno 98]" line, and exited with code 3."""
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RAG_LLM": "extractive"}
    subprocess.run([RAG, "--data-dir", str(tmp_path / "data"), "ingest", str(SEEDS)], env=env, check=True,
                   capture_output=True, timeout=300)
    server = subprocess.Popen([RAG, "--data-dir", str(tmp_path / "data"), "serve", "--no-ui", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=180, process=server)
        asked = httpx.post(f"http://127.0.0.1:{port}/v1/ask", timeout=60,
                           json={"question": "In which building did Trump and Zelensky meet in Paris?"}).json()
        assert not asked["refused"] and asked["citations"] and "Paris" in asked["answer"]
        second = subprocess.run([RAG, "--data-dir", str(tmp_path / "data"), "serve", "--no-ui", "--port", str(port)],
                                env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 1 and "news-rag API on" not in second.stdout
        assert f"cannot listen on 127.0.0.1:{port} (Address already in use); choose another --port" in \
            " ".join(second.stderr.split())  # as the terminal wraps it
    finally:
        server.terminate()
        server.wait(30)


# --- the local model -----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_four_clients_queue_for_the_local_model_and_all_get_answers(engine: NewsRAG) -> None:
    local = NewsRAG(engine.settings.model_copy(update={"llm": "local", "api_token": None}))
    results: list[str] = []
    errors: list[str] = []

    def one_client(question: str) -> None:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=600)
        try:
            response = ask_chat(client, question)
            results.append(response.choices[0].message.content)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{type(exc).__name__}: {exc}")

    with serve_in_thread(build_service(local)) as url:
        questions = [FUNDING_QUESTION, UNANSWERABLE, "Where did Trump and Zelensky meet?", FUNDING_QUESTION]
        threads = [threading.Thread(target=one_client, args=(q,)) for q in questions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
    assert errors == [] and len(results) == 4 and all(results)


def test_another_site_cannot_change_the_library_or_rebind_its_name(tmp_path: Path) -> None:
    """A page on another site can send a form POST to a server on its visitor's machine: it is refused by
    its Origin, whatever the token. A server with no token answers only to loopback names, so a site that
    makes its own name resolve to 127.0.0.1 (DNS rebinding) gets nothing; a same-origin page is served."""
    engine = NewsRAG(Settings(data_dir=tmp_path / "data", llm="extractive", ui_examples=0))
    article = ("ferry.txt", b"Ferry fares rise\n\nFerry fares in Oban rise by 8 percent from May.\n", "text/plain")
    with serve_in_thread(build_server_app(engine, with_ui=True, seed_dir=SEEDS, say=lambda _: None)) as url:
        before = len(engine.documents())
        cross = httpx.post(f"{url}/v1/documents", files=[("files", article)], headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403 and "another site" in cross.json()["error"]["message"]
        rebound = httpx.get(f"{url}/v1/documents", headers={"Host": "rebind.evil.example"})
        assert rebound.status_code == 403 and "loopback names" in rebound.json()["error"]["message"]
        assert httpx.get(f"{url}/", headers={"Host": "rebind.evil.example"}).status_code == 403  # the UI too
        assert len(engine.documents()) == before
        same = httpx.post(f"{url}/v1/documents", files=[("files", article)], headers={"Origin": url})
        assert same.status_code == 201 and len(engine.documents()) == before + 1
        assert httpx.get(f"{url}/healthz", headers={"Host": f"localhost:{url.rsplit(':', 1)[1]}"}).status_code == 200


def test_a_huge_body_to_the_page_s_events_is_refused_before_it_is_read(base_url: str) -> None:
    """Gradio's queue took a 150 MB JSON body and held it in memory; the UI's events now have a limit."""
    huge = httpx.post(f"{base_url}/gradio_api/queue/join", content=b"{" + b" " * (9 * 1024 * 1024) + b"}",
                      headers={"Content-Type": "application/json"}, timeout=60)
    assert huge.status_code == 413 and "the limit here is" in huge.json()["error"]["message"]
    chunked = httpx.post(f"{base_url}/gradio_api/queue/join", headers={"Content-Type": "application/json"},
                         content=(b" " * 1024 * 1024 for _ in range(9)), timeout=60)  # no length: sent chunked
    assert chunked.status_code == 413 and "the limit here is" in chunked.json()["error"]["message"]
    # a body that never ends is refused once past the limit, not read on (under `rag serve` a guard added
    # after the limit stood in front of it and read every body whole first)
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as endless:
        endless.sendall(b"POST /gradio_api/queue/join HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n")
        piece = b" " * (1024 * 1024)
        for _ in range(9):
            endless.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        assert endless.recv(64).startswith(b"HTTP/1.1 413")


@pytest.mark.parametrize(("method", "host", "origin", "open_server", "refused"), [
    ("POST", "127.0.0.1:8000", "http://127.0.0.1:8000", True, False),  # the page itself
    ("POST", "127.0.0.1:8000", None, True, False),  # curl, the openai client: no Origin
    ("POST", "127.0.0.1:8000", "https://evil.example", True, True),
    ("POST", "127.0.0.1:8000", "http://localhost:9999", True, True),  # another local page
    ("POST", "127.0.0.1:8000", "null", True, True),  # a sandboxed frame
    ("WEBSOCKET", "127.0.0.1:8000", "https://evil.example", True, True),  # browsers open these to anyone
    ("GET", "evil.example:8000", None, True, True),  # a rebound name
    ("GET", "localhost:8000", None, True, False),
    ("GET", "[::1]:8000", None, True, False),
    ("POST", "news.example.org", "https://news.example.org", False, False),  # with a token, any name
    ("POST", "10.0.0.5:8000", "https://news.example.org", False, True),  # a proxy must pass Host on
    ("DELETE", "news.example.org", "https://evil.example", False, True),
])
def test_which_requests_count_as_another_site_s(method: str, host: str, origin: str | None, open_server: bool,
                                                 refused: bool) -> None:
    from rag.service import cross_site_refusal

    assert (cross_site_refusal(method, host, origin, open_server) is not None) == refused


def test_the_page_s_login_takes_the_token_and_makes_guessing_slow(base_url: str) -> None:
    """Gradio's /login had no limit: each wrong password now costs a second, one at a time for the whole
    server (three guessed at once take three seconds), and the right one is let in at once."""
    import concurrent.futures

    def login(password: str) -> httpx.Response:
        return httpx.post(f"{base_url}/login", data={"username": "anyone", "password": password}, timeout=60)

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        wrong = list(pool.map(login, ["guess-1", "guess-2", "guess-3"]))
    assert all(r.status_code == 400 for r in wrong) and time.monotonic() - started >= 3.0
    right = login(TOKEN)
    assert right.status_code == 200, right.text


def test_one_network_s_uploads_are_bounded_and_a_local_proxy_s_forwarded_address_counts(engine: NewsRAG) -> None:
    """RAG_MAX_UPLOADS_PER_SENDER over HTTP: a reverse proxy on this machine forwards each visitor's address
    (X-Forwarded-For, believed from 127.0.0.1 only: uvicorn's FORWARDED_ALLOW_IPS), and each network's files
    are counted apart, so one visitor filling their share refuses no one else."""
    service = NewsRAG(engine.settings.model_copy(update={"api_token": None, "max_uploads_per_sender": 1}))

    def upload(url: str, name: str, address: str) -> httpx.Response:
        files = [("files", (name, f"{name}\n\nThe harbour board met on {name}.".encode(), "text/plain"))]
        return httpx.post(f"{url}/v1/documents", files=files, headers={"X-Forwarded-For": address}, timeout=60)

    with serve_in_thread(build_service(service)) as url:
        assert upload(url, "monday.txt", "203.0.113.5").status_code == 201
        refused = upload(url, "tuesday.txt", "203.0.113.5")
        assert refused.status_code == 422 and "RAG_MAX_UPLOADS_PER_SENDER" in refused.json()["error"]["message"]
        assert upload(url, "wednesday.txt", "198.51.100.7").status_code == 201
    for doc in service.documents():
        if doc.uploaded:
            service.remove(doc.doc_id)
