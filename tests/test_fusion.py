"""Reciprocal rank fusion and duplicate collapsing: pure functions, known answers."""

from __future__ import annotations

import pytest

from rag.fusion import collapse_near_duplicates, reciprocal_rank_fusion


def test_rrf_rewards_agreement_between_lists() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]])
    assert [key for key, _ in fused] == ["b", "a", "d", "c"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


@pytest.mark.parametrize("rankings", [[], [[]], [[], []]])
def test_rrf_of_nothing_is_empty(rankings: list[list[str]]) -> None:
    assert reciprocal_rank_fusion(rankings) == []


def test_rrf_weights_must_match_rankings() -> None:
    with pytest.raises(ValueError, match="2 weights for 1 rankings"):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])


def test_near_duplicates_collapse_to_the_best_ranked() -> None:
    story = "The port of Brest closed on Monday after winds reached 140 km/h, the mayor said on local radio."
    syndicated = story.replace("the mayor said", "the mayor said,")
    other = "About 300 fishermen blocked the road to the ministry in protest against new quotas."
    kept = collapse_near_duplicates([story, syndicated, other], text_of=lambda t: t)
    assert kept == [story, other]


def test_overlapping_but_different_passages_are_kept() -> None:
    first = "Zelensky met Trump in Paris. They talked for an hour about a ceasefire and guarantees."
    second = "They talked for an hour about a ceasefire and guarantees. Macron hosted the meeting at the Elysee."
    assert collapse_near_duplicates([first, second], text_of=lambda t: t) == [first, second]


def test_the_keyword_vote_is_whole_when_bm25_sees_half_the_question_and_shrinks_below() -> None:
    from rag.retrieval import keyword_weight

    assert keyword_weight(1.0) == keyword_weight(0.84) == keyword_weight(0.5) == 1.0
    assert keyword_weight(0.25) == pytest.approx(0.5)
    assert keyword_weight(0.0) == 0.0


def test_bm25_sees_an_english_question_over_english_articles_and_not_a_chinese_one(seeded_engine) -> None:  # type: ignore[no-untyped-def]
    from rag.retrieval import keyword_weight

    seeded_engine.search("warm-up")  # loads the keyword index
    keyword = seeded_engine.keyword
    # Five articles lack some of its words ("how", "many"), yet their keyword list keeps its whole vote.
    english = keyword.coverage("How many long-range drones did Lavrov say were aimed at Putin's residence?")
    assert 0.5 < english < 1.0 and keyword_weight(english) == 1.0
    assert keyword.coverage("拉夫罗夫说有多少架远程无人机瞄准了普京的住所？") == 0.0


def test_a_keyword_list_without_a_vote_leaves_the_dense_order() -> None:
    from llama_index.core.schema import NodeWithScore, TextNode

    from rag.retrieval import fuse

    def listed(*names: str) -> list[NodeWithScore]:
        return [NodeWithScore(node=TextNode(id_=name, text=f"passage {name} " * 8, metadata={"doc_id": name}),
                              score=1.0 / rank) for rank, name in enumerate(names, start=1)]

    dense, sparse = listed("a", "b", "c"), listed("x", "c", "y")
    assert [hit.text.split()[1] for hit in fuse(dense, sparse, 3, keyword_weight=0.0)] == ["a", "b", "c"]
    assert [hit.text.split()[1] for hit in fuse(dense, sparse, 3)][0] == "c"  # both lists agree on it


def test_a_dense_list_without_a_vote_follows_the_keyword_order_and_fills_its_gaps() -> None:
    from llama_index.core.schema import NodeWithScore, TextNode

    from rag.retrieval import fuse

    def listed(*names: str) -> list[NodeWithScore]:
        return [NodeWithScore(node=TextNode(id_=name, text=f"passage {name} " * 8, metadata={"doc_id": name}),
                              score=1.0 / rank) for rank, name in enumerate(names, start=1)]

    dense, sparse = listed("a", "b", "c", "d"), listed("x", "c")
    assert [hit.text.split()[1] for hit in fuse(dense, sparse, 4, dense_weight=0.0)] == ["x", "c", "a", "b"]
    assert [hit.text.split()[1] for hit in fuse(dense, sparse, 4)][0] == "c"  # both lists agree on it


@pytest.mark.parametrize(("question", "english_only_vote"), [
    ("How many long-range drones did Lavrov say were aimed at Putin's residence?", 1.0),
    ("Πόσο κοστίζει το εισιτήριο της νέας ακτοπλοϊκής γραμμής Καβάλα – Σαμοθράκη;", 0.0),
    ("புதிய பாலம் எவ்வளவு செலவில் கட்டப்பட்டது?", 0.0),  # Tamil: no reply is written in it
    ("¿Cuánto costó la nueva planta desalinizadora de Torrevieja?", 0.0),
])
def test_an_english_only_embedder_has_no_vote_on_a_question_it_cannot_read(question: str,
                                                                         english_only_vote: float) -> None:
    """MiniLM reads English only: its neighbours of a Greek or Tamil question pushed the passages keyword
    search found first out of the top (multilingual sets: the answer's passage first for 45 of 66 questions
    fused with an equal vote, 61 without). A multilingual model keeps its vote in every language."""
    from rag.retrieval import dense_weight

    assert dense_weight(question, multilingual=False) == english_only_vote
    assert dense_weight(question, multilingual=True) == 1.0


def test_a_greek_question_over_a_minilm_index_gets_the_passages_keyword_search_ranks_first(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """End to end over a real index: the hybrid search of a question MiniLM cannot read returns keyword
    search's order, where the dense list put another passage first (and, fused with an equal vote, first
    among the four)."""
    from rag import NewsRAG, Settings
    from tests.conftest import REPO

    articles = REPO / "eval" / "datasets" / "multilingual_holdout2"
    engine = NewsRAG(Settings(data_dir=tmp_path, llm="extractive", ui_examples=0))
    engine.ingest([articles / "el_ferry.txt", articles / "uk_hospital.txt"])
    question = "Πόσους επιβάτες χωράει το πλοίο «Αγία Μαρίνα»;"  # how many passengers does the ferry carry
    keyword = [hit.chunk_id for hit in engine.search(question, k=4, mode="keyword")]
    dense = [hit.chunk_id for hit in engine.search(question, k=4, mode="dense")]
    hybrid = [hit.chunk_id for hit in engine.search(question, k=4)]
    assert hybrid == keyword and dense[0] != keyword[0]
    assert "640 επιβατών" in engine.search(question, k=4)[0].text
