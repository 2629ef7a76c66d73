"""The few exceptions the engine raises. The library raises; only the CLI and UI turn them into messages."""

from __future__ import annotations


class RagError(Exception):
    """Base class: every message says what happened and how to fix it."""


class ConfigError(RagError):
    """A setting is missing or wrong (a key, a URL, a model path)."""


class IndexMismatchError(RagError):
    """The index was built with another embedding model; mixing vectors would give garbage."""


class StoreUnavailableError(RagError):
    """The Chroma server cannot be reached."""


class BackendError(RagError):
    """The language model backend failed (server down, timeout, bad key, corrupt model)."""


class FileRejected(RagError):
    """One input file cannot be ingested; the reason goes into the ingestion report."""


class InputTooLong(RagError):
    """A question or chat history is over its length limit (``RAG_MAX_QUESTION_CHARS`` / ``RAG_MAX_HISTORY_CHARS``)."""


class InvalidText(RagError, ValueError):
    """A question, chat turn or filter holds text that is not valid Unicode: half of a character (a lone
    UTF-16 surrogate, as a JavaScript client sends after cutting a string inside an emoji)."""


class NotAnUpload(RagError):
    """A visitor (the UI's Library tab, ``DELETE /v1/documents``) asked to remove an article the server's
    operator indexed: only uploads are theirs to remove."""


class NotYourUpload(RagError):
    """A visitor asked to remove an upload without the removal key that upload was given: someone else's."""
