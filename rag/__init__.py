"""news-rag: question answering over news articles, with cited sources.

The public API. The CLI, the UI and the eval suite import from here only::

    from rag import NewsRAG, Settings
    rag = NewsRAG(Settings(data_dir="./index"))
    rag.ingest(["seeds/"])
    for hit in rag.search("Where did Trump and Zelensky meet?"):
        print(hit.title, hit.text)
"""

from rag.offline import apply_offline_defaults

apply_offline_defaults()

from rag.engine import NewsRAG  # noqa: E402
from rag.errors import (  # noqa: E402
    BackendError,
    ConfigError,
    FileRejected,
    IndexMismatchError,
    RagError,
    StoreUnavailableError,
)
from rag.generation import ChatClient, build_chat_client  # noqa: E402
from rag.retrieval import SEARCH_MODES, SearchFilters  # noqa: E402
from rag.text import split_sentences, support_score, word_coverage  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.types import Answer, Article, Citation, DocumentInfo, Hit, IngestReport, SkippedFile  # noqa: E402

__all__ = [
    "SEARCH_MODES", "Answer", "Article", "BackendError", "ChatClient", "Citation", "ConfigError", "DocumentInfo",
    "FileRejected", "Hit", "IndexMismatchError", "IngestReport", "NewsRAG", "RagError", "SearchFilters",
    "Settings", "SkippedFile", "StoreUnavailableError", "build_chat_client", "split_sentences", "support_score",
    "word_coverage",
]
