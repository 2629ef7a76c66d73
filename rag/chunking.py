"""Sentence-aware chunking that remembers where each chunk sits in the cleaned article."""

from __future__ import annotations

import re
from collections.abc import Callable

from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.node_parser.text.utils import split_by_sentence_tokenizer
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from rag.text import FULL_WIDTH_STOP, GREEK_QUESTION, SCRIPT_STOPS
from rag.types import Article

# Only the title is embedded with the chunk text: it tells the retriever which story a passage belongs to.
_EMBEDDED_METADATA = {"title"}


# Hand-written where llama-index's defaults are wrong for these texts. Its sentence tokenizer (NLTK's punkt)
# does not end a sentence at a full-width 。！？, so a Chinese or Japanese paragraph was one "sentence", too
# long for a chunk; and its sub-sentence pattern ("[^,.;。？！]+[,.;。？！]?") then cut it after any ASCII point,
# inside "13.53千克", so an excerpt quoted "13." for 13.53 kg, and else at any character. Here a full-width
# stop ends a sentence, a point or comma between digits never ends a piece, and the full-width comma and
# semicolon end one, so a sentence longer than a chunk is cut at a clause. Punkt does not know the stops of
# other scripts either (Hindi's "।", Arabic's "؟", Urdu's "۔", ``SCRIPT_STOPS``): a Hindi paragraph was cut at
# its commas. They end sentences here too, as does Greek's question mark (";" after a Greek letter), and the
# Arabic comma and semicolon end clauses. English text has
# none of these marks, so its chunks are punkt's as before, but for a sentence longer than a chunk with a
# number in it.
_SCRIPT_STOP = re.compile(rf"""{FULL_WIDTH_STOP}|(?:[{SCRIPT_STOPS}]|{GREEK_QUESTION})+["'”’»)\]]*""")
_CLAUSE_MARKS = f",.;，；。？！،؛{SCRIPT_STOPS}"
_CLAUSE = rf"(?:[^{_CLAUSE_MARKS}]|(?<=\d)[.,](?=\d))+[{_CLAUSE_MARKS}]?"


def _script_sentences(text: str) -> list[str]:
    """``text`` cut after each full-width or script stop (and its closing quotes), every character kept."""
    pieces, start = [], 0
    for match in _SCRIPT_STOP.finditer(text):
        pieces.append(text[start:match.end()])
        start = match.end()
    pieces.append(text[start:])
    return [piece for piece in pieces if piece]


def _sentence_tokenizer() -> Callable[[str], list[str]]:
    punkt = split_by_sentence_tokenizer()
    return lambda text: [piece for sentence in punkt(text) for piece in _script_sentences(sentence)]


# Raise whenever a change here can cut the same article differently: each article's registry record keeps the
# chunking it was cut with, and ingesting it again re-chunks it when that differs (see ``chunking_id``).
# 2: full-width stops end sentences, clauses never end inside a number.
# 3: script stops end sentences, Arabic commas and semicolons end clauses.
# 4: Greek's question mark ends sentences.
# Each version after 2 names the marks it cuts at differently: an article holding none of them is cut as the
# version before cut it, so it keeps that version's record and an upgrade re-embeds only the articles it changes.
_BASE_VERSION = 2
_VERSION_MARKS: tuple[tuple[int, re.Pattern[str]], ...] = ((3, re.compile(f"[{SCRIPT_STOPS}،؛]")),
                                                           (4, re.compile(GREEK_QUESTION)))


def chunker_version(text: str) -> int:
    """The oldest chunker version that cuts ``text`` as this one does."""
    return max((version for version, marks in _VERSION_MARKS if marks.search(text)), default=_BASE_VERSION)


def chunking_id(splitter: SentenceSplitter, article: Article) -> str:
    """What decides an article's chunks besides its text: the chunker's version and the splitter's sizes."""
    return f"sentences-v{chunker_version(article.text)}/{splitter.chunk_size}/{splitter.chunk_overlap}"


def make_splitter(chunk_size: int, chunk_overlap: int) -> SentenceSplitter:
    """llama-index's splitter keeps sentences whole and records character offsets for us."""
    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap, include_metadata=False,
                            chunking_tokenizer_fn=_sentence_tokenizer(), secondary_chunking_regex=_CLAUSE)


# On the chunks of a visitor's upload only: its file's name. Searches leave out other visitors' uploads by it
# (``SearchFilters.hidden_uploads``), where no article the server indexed can share it: left out by
# ``source_name``, an upload named like an article the operator indexed later took every place in a
# stranger's top k (40 lines aimed at one question), and the answer was a refusal.
UPLOADED_FILE = "uploaded_file"


def article_metadata(article: Article, uploaded: bool = False) -> dict[str, str | int]:
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
    if uploaded:
        meta[UPLOADED_FILE] = article.source_name
    return meta


def chunk_article(article: Article, splitter: SentenceSplitter, uploaded: bool = False) -> list[TextNode]:
    """Split one article into nodes with ids ``<doc_id>:<n>`` and exact character spans; ``uploaded``: a
    visitor's upload (``UPLOADED_FILE``)."""
    meta = article_metadata(article, uploaded)
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
