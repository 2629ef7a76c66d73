"""news-rag: question answering over news articles, with cited sources.

The public API::

    from rag import NewsRAG, Settings
    rag = NewsRAG(Settings(data_dir="./index"))
    rag.ingest(["seeds/"])
    for hit in rag.search("Where did Trump and Zelensky meet?"):
        print(hit.title, hit.text)

The UI and the eval suite (and any plugin) import these names, plus the few modules listed in
``EXTENSION_MODULES``, whose names are kept stable for them; nothing else of the engine's insides
(``tests/test_architecture.py`` checks).
"""

from rag.offline import apply_offline_defaults

apply_offline_defaults()

from rag.engine import NewsRAG  # noqa: E402
from rag.errors import (  # noqa: E402
    BackendError,
    ConfigError,
    FileRejected,
    IndexMismatchError,
    InvalidText,
    NotAnUpload,
    NotYourUpload,
    RagError,
    StoreUnavailableError,
)
from rag.generation import ChatClient, build_chat_client  # noqa: E402
from rag.retrieval import SEARCH_MODES, SearchFilters  # noqa: E402
from rag.citations import support_score  # noqa: E402
from rag.text import split_sentences, word_coverage  # noqa: E402
from rag.settings import LlmBackend, Settings  # noqa: E402
from rag.types import Answer, Article, Citation, DocumentInfo, Hit, IngestReport, SkippedFile  # noqa: E402

__all__ = [
    "SEARCH_MODES", "Answer", "Article", "BackendError", "ChatClient", "Citation", "ConfigError", "DocumentInfo",
    "FileRejected", "Hit", "IndexMismatchError", "IngestReport", "InvalidText", "LlmBackend", "NewsRAG", "NotAnUpload", "NotYourUpload", "RagError", "SearchFilters",
    "Settings", "SkippedFile", "StoreUnavailableError", "build_chat_client", "split_sentences", "support_score",
    "word_coverage",
]

# Modules beyond the names above that ui/ and eval/ use, each for one reason:
EXTENSION_MODULES = (
    "rag.cli",  # a plugin registers its `rag` commands (entry points ``news_rag.commands``)
    "rag.service",  # the HTTP API that `rag serve` mounts the UI beside, and its answer queue
    "rag.uploads",  # the one upload rule of the Library tab and POST /v1/documents
    "rag.dates",  # how a stored date is shown
    "rag.citations",  # the claims the citation check saw, so the eval judges the same sentences
    "rag.text",  # sentence and word helpers the judges share with the engine
    "rag.likelihood",  # the short answer's likelihood, which the bench reads on stored answers too
    "rag.fusion",  # reciprocal rank fusion for the retrieval baselines
    "rag.embedding",  # the embedding model the naive pipeline uses
    "rag.generation",  # token usage and logprobs of a chat call
    "rag.evidence",  # the numbered sentences, the second look's passage and when it is skipped, for its experiments
    "rag.calibration",  # the one probability from the three signals, which the bench fits and scores
    "rag.languages",  # a yes to a yes/no question, which the bench scores on stored answers
)

