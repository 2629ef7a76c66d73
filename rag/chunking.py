"""Sentence-aware chunking that remembers where each chunk sits in the cleaned article."""

from __future__ import annotations

import re
from collections.abc import Callable

from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.node_parser.text.utils import split_by_sentence_tokenizer
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from rag.text import FULL_WIDTH_STOP
from rag.types import Article

# Only the title is embedded with the chunk text: it tells the retriever which story a passage belongs to.
_EMBEDDED_METADATA = {"title"}


# Hand-written where llama-index's defaults are wrong for these texts. Its sentence tokenizer (NLTK's punkt)
# does not end a sentence at a full-width 。！？, so a Chinese or Japanese paragraph was one "sentence", too
# long for a chunk; and its sub-sentence pattern ("[^,.;。？！]+[,.;。？！]?") then cut it after any ASCII point,
# inside "13.53千克", so an excerpt quoted "13." for 13.53 kg, and else at any character. Here a full-width
# stop ends a sentence, a point or comma between digits never ends a piece, and the full-width comma and
# semicolon end one, so a sentence longer than a chunk is cut at a clause. English text has no full-width
# stops, so its chunks are punkt's as before, but for a sentence longer than a chunk with a number in it.
_FULL_WIDTH_STOP = re.compile(FULL_WIDTH_STOP)
_CLAUSE = r"(?:[^,.;，；。？！]|(?<=\d)[.,](?=\d))+[,.;，；。？！]?"


def _full_width_sentences(text: str) -> list[str]:
    """``text`` cut after each full-width stop (and its closing quotes), every character kept."""
    pieces, start = [], 0
    for match in _FULL_WIDTH_STOP.finditer(text):
        pieces.append(text[start:match.end()])
        start = match.end()
    pieces.append(text[start:])
    return [piece for piece in pieces if piece]


def _sentence_tokenizer() -> Callable[[str], list[str]]:
    punkt = split_by_sentence_tokenizer()
    return lambda text: [piece for sentence in punkt(text) for piece in _full_width_sentences(sentence)]


# Raise whenever a change here can cut the same article differently: each article's registry record keeps the
# chunking it was cut with, and ingesting it again re-chunks it when that differs (see ``chunking_id``).
# 2: full-width stops end sentences, clauses never end inside a number.
CHUNKER_VERSION = 2


def chunking_id(splitter: SentenceSplitter) -> str:
    """What decides an article's chunks besides its text: the chunker's version and the splitter's sizes."""
    return f"sentences-v{CHUNKER_VERSION}/{splitter.chunk_size}/{splitter.chunk_overlap}"


def make_splitter(chunk_size: int, chunk_overlap: int) -> SentenceSplitter:
    """llama-index's splitter keeps sentences whole and records character offsets for us."""
    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap, include_metadata=False,
                            chunking_tokenizer_fn=_sentence_tokenizer(), secondary_chunking_regex=_CLAUSE)


def article_metadata(article: Article) -> dict[str, str | int]:
    """Flat metadata stored on every chunk (Chroma accepts str/int/float/bool, never None)."""
    meta: dict[str, str | int] = {
        "doc_id": article.doc_id,
        "title": article.title,
        "source": article.source,
        "source_name": article.source_name,
        "publisher": article.publisher,
        "sha256": article.sha256,
    }
    if article.published is not None:
        meta["published"] = article.published
    return meta


def chunk_article(article: Article, splitter: SentenceSplitter) -> list[TextNode]:
    """Split one article into nodes with ids ``<doc_id>:<n>`` and exact character spans."""
    meta = article_metadata(article)
    # Metadata is attached after splitting: the splitter would count it against the chunk size.
    document = Document(text=article.text, id_=article.doc_id)
    nodes = splitter.get_nodes_from_documents([document])
    chunks: list[TextNode] = []
    for position, node in enumerate(nodes):
        start = node.start_char_idx if node.start_char_idx is not None else article.text.find(node.text)
        chunk = TextNode(
            id_=f"{article.doc_id}:{position}",
            text=node.text,
            metadata={**meta, "position": position},
            start_char_idx=start,
            end_char_idx=start + len(node.text),
        )
        chunk.excluded_embed_metadata_keys = [k for k in chunk.metadata if k not in _EMBEDDED_METADATA]
        chunk.excluded_llm_metadata_keys = list(chunk.metadata)
        # llama-index writes ref_doc_id into the stored "doc_id" key (and pops it on read), so the
        # article id travels as the SOURCE relationship; deletes filter on it.
        chunk.relationships = {NodeRelationship.SOURCE: RelatedNodeInfo(node_id=article.doc_id)}
        chunks.append(chunk)
    return chunks
