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
