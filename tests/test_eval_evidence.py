"""Narrowing an article to the sentences a claim is about (real MiniLM embeddings, no model server)."""

from __future__ import annotations

import numpy as np

from rag import Settings
from rag.embedding import build_embed_model

from eval.evidence import SentenceFocus, closest_sentences

ARTICLE = ("The port of Brest closed on Monday after winds reached 140 km/h. "
           "The mayor said the storm was the worst in a decade. "
           "Ferries to Plymouth were cancelled until Wednesday. "
           "Schools in the region stayed open. "
           "Farmers reported fallen trees on several roads.")


def test_closest_sentences_keeps_the_article_order() -> None:
    sentences = ["a", "b", "c", "d"]
    vectors = np.eye(4, dtype=np.float32)
    claim = np.array([0.1, 0.0, 0.9, 0.5], dtype=np.float32)
    assert closest_sentences(claim, vectors, sentences, k=2) == "c d"
    assert closest_sentences(claim, vectors, sentences, k=3) == "a c d"
    assert closest_sentences(claim, vectors[:0], [], k=2) == ""


def test_each_claim_gets_the_sentences_it_is_about() -> None:
    focus = SentenceFocus(build_embed_model(Settings()), k=1)
    ferries, schools = focus.evidence_for(["The ferry to Plymouth did not sail.", "Pupils went to school."],
                                          ARTICLE)
    assert ferries == "Ferries to Plymouth were cancelled until Wednesday."
    assert schools == "Schools in the region stayed open."


def test_short_evidence_is_given_whole() -> None:
    focus = SentenceFocus(build_embed_model(Settings()), k=3)
    assert focus.evidence_for(["Brest"], "One sentence. Two sentences.") == ["One sentence. Two sentences."]
