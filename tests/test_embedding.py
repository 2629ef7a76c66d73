"""The embedding backends on a real Chroma: the multilingual one finds articles across languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import NewsRAG, Settings
from tests.conftest import REPO, SEEDS

MULTILINGUAL = REPO / "eval" / "datasets" / "multilingual"  # seven languages, one article each (and two in Chinese)

# A question in one language whose answer is only in an article in another.
ACROSS_LANGUAGES = [
    ("When is the new airport on Gadeok Island planned to open?", "ko_busan.txt"),
    ("How many artefacts does the Grand Egyptian Museum hold?", "ar_cairo.txt"),
    ("How many stations are in the first phase of the Patna metro?", "hi_metro.txt"),
    ("拉夫罗夫说有多少架远程无人机瞄准了普京的住所？", "000_34d3f0eff26b4d81.txt"),
]


@pytest.fixture(scope="module")
def e5_engine(tmp_path_factory: pytest.TempPathFactory) -> NewsRAG:
    engine = NewsRAG(Settings(data_dir=tmp_path_factory.mktemp("e5"), embed_backend="e5", llm="extractive",
                              chroma_url=None))
    engine.ingest([MULTILINGUAL, SEEDS])
    return engine


@pytest.mark.parametrize(("question", "article"), ACROSS_LANGUAGES)
def test_the_multilingual_model_finds_an_article_written_in_another_language(
        e5_engine: NewsRAG, question: str, article: str) -> None:
    assert e5_engine.search(question, k=1, mode="dense")[0].source_name == article


def test_the_multilingual_model_still_answers_in_the_article_s_own_language(e5_engine: NewsRAG) -> None:
    answer = e5_engine.ask("广州至湛江高铁全长多少公里？")
    assert not answer.refused and "401" in answer.text
    assert {Path(citation.source).name for citation in answer.citations} == {"zh_rail.txt"}


def test_an_index_built_with_minilm_is_not_read_with_e5(tmp_path: Path) -> None:
    from rag import IndexMismatchError

    NewsRAG(Settings(data_dir=tmp_path, chroma_url=None, llm="extractive")).ingest([SEEDS / "000_34d3f0eff26b4d81.txt"])
    with pytest.raises(IndexMismatchError, match="RAG_EMBED_BACKEND"):
        NewsRAG(Settings(data_dir=tmp_path, chroma_url=None, llm="extractive", embed_backend="e5")).search("drones")


def test_only_a_model_that_reads_every_language_takes_the_keyword_vote_away(e5_engine: NewsRAG) -> None:
    """With MiniLM, BM25's matches on a foreign question's names are all the search has: it keeps its vote."""
    from rag.embedding import MiniLMEmbedding, reads_every_language

    assert reads_every_language(e5_engine.embed_model)
    assert not reads_every_language(MiniLMEmbedding())
