"""Visitors' uploads through the engine (the rule the Library tab and POST /v1/documents share): who may
remove one, and what an upload may not change for other visitors."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from rag import NewsRAG, NotYourUpload, Settings
from rag.loading import doc_id_for
from rag.suggestions import suggestion_key
from rag.uploads import upload_dir

HARBOUR = b"Harbour reopens\n\nThe Kelby harbour reopened to fishing boats on Friday after dredging."
FEED = "".join(json.dumps({"id": key, "title": title, "text": text}) + "\n" for key, title, text in [
    ("a", "Tram line opens", "The Osterby tram line opened on Monday with six stops."),
    ("b", "Pool closes", "The Osterby pool closed for repairs on Tuesday.")]).encode()


@pytest.fixture
def engine(tmp_path: Path) -> NewsRAG:
    return NewsRAG(Settings(data_dir=tmp_path / "data", llm="extractive", ui_examples=0))


def test_a_removal_sent_while_an_upload_is_indexed_waits_for_it_and_needs_its_key(engine: NewsRAG) -> None:
    """An upload's doc_id is known before it is indexed (it comes from its file name). A removal without
    the key, sent while the upload was being indexed, found no article to check, waited for the write
    lock, and then removed the fresh upload."""
    expected = doc_id_for(str((upload_dir(engine.settings.data_dir) / "harbour.txt").resolve()))
    indexing, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def slow_progress(done: float, total: int, name: str) -> None:
        indexing.set()
        release.wait(30)

    def remove_without_key() -> None:
        try:
            outcome["removed"] = engine.remove_upload(expected, [])
        except NotYourUpload as exc:
            outcome["removed"] = exc

    uploading = threading.Thread(target=lambda: outcome.update(
        upload=engine.ingest_uploads([("harbour.txt", HARBOUR)], progress=slow_progress)))
    uploading.start()
    assert indexing.wait(60)
    removing = threading.Thread(target=remove_without_key)
    removing.start()
    time.sleep(0.5)  # the removal is sent while the article is being indexed
    release.set()
    uploading.join(60)
    removing.join(60)
    assert isinstance(outcome["removed"], NotYourUpload)
    assert expected in {doc.doc_id for doc in engine.documents()}
    intake, _ = outcome["upload"]  # type: ignore[misc]
    assert engine.remove_upload(expected, [intake.removal_key])


def test_the_same_bytes_again_do_not_bring_back_what_their_uploader_removed(engine: NewsRAG) -> None:
    """Removing one article of an uploaded collection keeps its file (the other article comes from it):
    anyone uploading the same bytes indexed the file again and put the removed article back, keyless."""
    intake, report = engine.ingest_uploads([("osterby.jsonl", FEED)])
    assert report is not None and len(report.added) == 2
    tram, pool = sorted(report.added, key=lambda doc_id: "Tram" not in next(
        d.title for d in engine.documents() if d.doc_id == doc_id))
    assert engine.remove_upload(tram, [intake.removal_key])
    again, report = engine.ingest_uploads([("osterby.jsonl", FEED)])
    assert report is not None and again.removal_key is None
    assert report.unchanged == [pool] and not report.added and not report.updated
    assert tram not in {doc.doc_id for doc in engine.documents()}


def test_an_over_long_file_name_is_saved_shortened_not_a_failure(engine: NewsRAG) -> None:
    """A name past the file system's 255 bytes failed to save: a 500 that left the request's earlier
    files saved, unindexed and keyless, taking their names."""
    intake, report = engine.ingest_uploads([("harbour.txt", HARBOUR), ("ä" * 200 + ".txt", HARBOUR + b" Again.")])
    assert report is not None and len(report.added) == 2 and not intake.rejected
    names = sorted(path.name for path in upload_dir(engine.settings.data_dir).iterdir())
    assert names[0] == "harbour.txt" and len(names[1].encode()) <= 200 and names[1].endswith(".txt")


def test_an_upload_answers_only_the_visitor_holding_its_key(tmp_path: Path) -> None:
    """Any visitor could upload an article with a false figure under a real article's title and publisher,
    and every other visitor was answered from it, cited. An upload is now read by its uploader's questions
    only (``RAG_SHARED_UPLOADS`` for a trusted team); the operator's own callers read everything."""
    engine = NewsRAG(Settings(data_dir=tmp_path / "data", llm="extractive", ui_examples=0))
    engine.ingest([_write(tmp_path / "articles" / "harbour-news.txt", "Harbour dredged\n\nThe Kelby harbour "
                          "was dredged by 40 workers in March, the port authority said.")])
    forged = b"Harbour dredged\n\nThe Kelby harbour was dredged by 4,000 workers in March, the port authority said."
    intake, report = engine.ingest_uploads([("harbour-news.txt", forged)])
    assert report is not None and len(report.added) == 1 and intake.removal_key
    [upload] = report.added
    question = "How many workers dredged the Kelby harbour?"

    stranger = engine.ask(question, engine.visitor_filters([]))
    assert "40 workers" in stranger.text and "4,000" not in stranger.text
    assert upload not in {c.doc_id for c in stranger.citations}
    assert all(hit.doc_id != upload for hit in engine.search(question, k=10, filters=engine.visitor_filters(["guess"])))
    assert upload not in {doc.doc_id for doc in engine.visitor_documents([])}
    # nor is a question about it offered to every visitor as an example (the chat's empty-state buttons)
    forged_doc = next(doc for doc in engine.documents() if doc.doc_id == upload)
    engine.suggestions.put(suggestion_key(forged_doc, engine.answering_model), "Who forged the harbour story?")
    assert "Who forged the harbour story?" not in engine.suggested_questions(limit=4)

    uploader = engine.visitor_filters([intake.removal_key])
    assert upload in {hit.doc_id for hit in engine.search(question, k=10, filters=uploader)}
    assert upload in {doc.doc_id for doc in engine.visitor_documents([intake.removal_key])}
    assert upload in {hit.doc_id for hit in engine.search(question, k=10)}  # rag ask, Python: the whole index

    team = NewsRAG(engine.settings.model_copy(update={"shared_uploads": True}))
    assert team.visitor_filters([]) is None
    assert upload in {doc.doc_id for doc in team.visitor_documents([])}


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
