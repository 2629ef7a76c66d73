"""Sentence-aware chunking that remembers where each chunk sits in the cleaned article."""

from __future__ import annotations

from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from rag.types import Article

# Only the title is embedded with the chunk text: it tells the retriever which story a passage belongs to.
_EMBEDDED_METADATA = {"title"}


def make_splitter(chunk_size: int, chunk_overlap: int) -> SentenceSplitter:
    """llama-index's splitter keeps sentences whole and records character offsets for us."""
    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap, include_metadata=False)


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
