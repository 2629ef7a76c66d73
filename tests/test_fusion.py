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
