"""The keyword index stays in step with Chroma: cheap when nothing changed, fresh in every process after a
change, and never destroyed by two processes rebuilding it at once."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import pytest
from llama_index.core.schema import TextNode

from rag import NewsRAG, Settings
from rag.keyword import KeywordIndex
from tests.conftest import SEEDS


def bm25_dir(engine: NewsRAG) -> Path:
    return engine.keyword.directory


def test_no_op_ingest_does_not_rebuild_the_keyword_index(tmp_path: Path) -> None:
    data = tmp_path / "data"
    NewsRAG(Settings(data_dir=data)).ingest([SEEDS])
    engine = NewsRAG(Settings(data_dir=data))  # a new process: nothing loaded in memory yet
    before = (bm25_dir(engine).stat().st_ino, (bm25_dir(engine) / "news_rag_stamp.json").stat().st_mtime_ns)
    report = engine.ingest([SEEDS])
    assert len(report.unchanged) == 5 and not report.changed_anything
    after = (bm25_dir(engine).stat().st_ino, (bm25_dir(engine) / "news_rag_stamp.json").stat().st_mtime_ns)
    assert after == before, "a no-op ingest rebuilt the BM25 index"


@pytest.mark.parametrize("where", ["embedded", "server"])
def test_a_change_with_the_same_chunk_count_reaches_another_process(tmp_path: Path, where: str,
                                                                    request: pytest.FixtureRequest) -> None:
    """The UI keeps serving; the CLI re-ingests an article (same number of chunks): the UI's next
    keyword search sees the new text. With a server, each process has its own data dir."""
    folder = tmp_path / "articles"
    folder.mkdir()
    story = folder / "harbour.txt"
    story.write_text("Harbour news\n\nThe ferry to Skye left on time with forty passengers.\n")
    if where == "embedded":
        ui = NewsRAG(Settings(data_dir=tmp_path / "data"))
        cli = NewsRAG(Settings(data_dir=tmp_path / "data"))
    else:
        url, collection = request.getfixturevalue("chroma_server"), f"gen{abs(hash(tmp_path)) % 10**8}"
        ui = NewsRAG(Settings(data_dir=tmp_path / "ui", chroma_url=url, collection=collection))
        cli = NewsRAG(Settings(data_dir=tmp_path / "cli", chroma_url=url, collection=collection))
    cli.ingest([folder])
    loaded = ui.search("ferry Skye", k=3, mode="keyword")  # the UI has loaded its keyword index
    assert len(loaded) == 1 and "forty passengers" in loaded[0].text
    chunks = cli.store.count_chunks()
    story.write_text("Harbour news\n\nThe lifeboat from Mallaig rescued two kayakers near Eigg.\n")
    assert len(cli.ingest([folder]).updated) == 1 and cli.store.count_chunks() == chunks
    hits = ui.search("lifeboat kayakers Eigg", k=3, mode="keyword")
    assert len(hits) == 1 and "rescued two kayakers near Eigg" in hits[0].text
    assert not ui.search("ferry Skye passengers", k=3, mode="keyword")


def _nodes(tag: str, count: int) -> list[TextNode]:
    return [TextNode(id_=f"{tag}:{i}", text=f"{tag} report number {i} about tides and {tag} ferries",
                     metadata={"doc_id": tag, "position": i}) for i in range(count)]


def _rebuild_many(directory: str, tag: str, times: int) -> None:
    """Runs in a child process: rebuild the shared index again and again, reading it in between."""
    index = KeywordIndex(Path(directory))
    for n in range(times):
        index.rebuild(_nodes(tag, 30 + n), generation=f"{tag}-{n}")
        assert index.search(f"{tag} ferries", k=3), "an index just built cannot be searched"


def test_two_processes_rebuilding_at_once_never_destroy_the_index(tmp_path: Path) -> None:
    directory = tmp_path / "bm25" / "news"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_rebuild_many, args=(str(directory), tag, 8)) for tag in ("alpha", "beta", "gamma")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    survivor = KeywordIndex(directory)
    assert survivor.load()
    found = survivor.search("ferries tides", k=5)
    tags = {hit.node.metadata["doc_id"] for hit in found}
    assert len(found) == 5 and len(tags) == 1 and tags <= {"alpha", "beta", "gamma"}  # one writer's whole index
    leftovers = sorted(p.name for p in directory.parent.iterdir() if p.name != directory.name and not
                       p.name.endswith(".lock"))
    assert leftovers == [], f"staging folders left behind: {leftovers}"


def test_a_killed_rebuild_leaves_no_staging_folder_behind(tmp_path: Path) -> None:
    directory = tmp_path / "bm25" / "news"
    index = KeywordIndex(directory)
    index.rebuild(_nodes("alpha", 5), generation="g1")
    dead = directory.with_name(f"{directory.name}.tmp-999999999-deadbeef")  # a pid that cannot be alive
    shutil.copytree(directory, dead)
    index.rebuild(_nodes("beta", 5), generation="g2")
    assert not dead.exists()
    assert {hit.node.metadata["doc_id"] for hit in index.search("beta ferries", k=5)} == {"beta"}
    assert index.search("alpha", k=5) == []  # the earlier generation is gone


ARCHIVE = ["The Kelby harbour reopened to fishing boats on Friday after dredging by the port authority.",
           "The port authority of Kelby said the harbour dredging cost 2 million pounds.",
           "Fishing boats returned to Osterby on Monday as the storm passed.",
           "The Osterby council approved a new tram line to the harbour district."]


def _passages(folder: Path, texts: list[str], tag: str) -> list[TextNode]:
    return [TextNode(id_=f"{tag}{n}", text=text, metadata={"source": str(folder / f"{tag}{n}.txt")},
                     excluded_embed_metadata_keys=["source"]) for n, text in enumerate(texts)]


def test_keyword_scores_are_bm25s_own_when_every_passage_counts(tmp_path: Path) -> None:
    """The statistics are computed here (``_CountedBM25``), not by bm25s: with nothing left uncounted, every
    passage's score must be the one bm25s itself gives, or search ranks differently from the library."""
    import bm25s

    from rag.keyword import _stopwords

    texts = ARCHIVE + ["Harbour harbour harbour: the word again and again in a longer passage about Kelby.", ""]
    index = KeywordIndex(tmp_path / "bm25")
    index.rebuild(_passages(tmp_path, texts, "a"), "g1")
    stemmer = index._loaded.retriever.stemmer  # type: ignore[union-attr]
    plain = bm25s.BM25()
    plain.index(bm25s.tokenize(texts, stopwords=_stopwords(stemmer.latin), stemmer=stemmer, show_progress=False),
                show_progress=False)
    for query in ("harbour dredging", "Kelby port authority", "Osterby tram storm", "fishing boats"):
        ours = {hit.node.node_id: hit.score for hit in index.search(query, k=len(texts))}
        words = bm25s.tokenize(query, stopwords=_stopwords(stemmer.latin), stemmer=stemmer, show_progress=False,
                               return_ids=False)
        ids, scores = plain.retrieve(words, k=len(texts), show_progress=False)
        theirs = {f"a{i}": float(s) for i, s in zip(ids[0], scores[0]) if s > 0}
        assert ours.keys() == theirs.keys() and all(abs(ours[i] - theirs[i]) < 1e-5 for i in ours), query


def test_uploads_are_searched_but_weigh_in_no_statistic(tmp_path: Path) -> None:
    """A stranger's hidden upload of 300 German lines made every visitor's English archive German (its
    questions stemmed by the German rules) and moved every passage's score. Uploads are searched (their
    uploader reads them) with the statistics of the operator's articles."""
    uploads = tmp_path / "data" / "uploads"
    flood = ["Der Hafen von Kelby wurde am Freitag nach Baggerarbeiten der Hafenbehörde wieder für Fischerboote "
             f"geöffnet, Meldung {n}. Der Harbour und die Harbour Kelby." for n in range(300)]
    alone = KeywordIndex(tmp_path / "alone", uploads)
    alone.rebuild(_passages(tmp_path / "articles", ARCHIVE, "a"), "g1")
    flooded = KeywordIndex(tmp_path / "bm25", uploads)
    flooded.rebuild(_passages(tmp_path / "articles", ARCHIVE, "a") + _passages(uploads, flood, "u"), "g2")

    def scores(index: KeywordIndex, query: str) -> dict[str, float]:
        return {hit.node.node_id: round(hit.score, 5) for hit in index.search(query, k=400) if hit.node_id[0] == "a"}

    for query in ("harbour dredging port authority", "Kelby harbour", "Hafen Kelby Fischerboote"):
        assert scores(flooded, query) == scores(alone, query), query
    assert flooded.archive_language() == alone.archive_language() == "en" and flooded.latin == "english"
    assert flooded.coverage("Hafen Kelby") == alone.coverage("Hafen Kelby") == 0.5
    assert not flooded.writes_as_name("harbour")  # the flood writes "Harbour" inside its sentences
    assert flooded.search("Baggerarbeiten Hafenbehörde", k=3)  # the uploader still finds their own lines
    # a copy weighed by another rule is none: a server that stops sharing uploads rebuilds it once
    assert flooded.load("g2") and not KeywordIndex(tmp_path / "bm25").load("g2")
    everything = KeywordIndex(tmp_path / "shared")  # RAG_SHARED_UPLOADS: a team's uploads are its archive
    everything.rebuild(_passages(tmp_path / "articles", ARCHIVE, "a") + _passages(uploads, flood, "u"), "g2")
    assert everything.archive_language() == "de"
