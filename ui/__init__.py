"""The Gradio web UI of news-rag. It only renders: every answer, citation and index change comes from ``rag``.

    from rag import NewsRAG, Settings
    from ui import build_app, launch
    launch(build_app(NewsRAG(Settings())))

Gradio is imported on first use of ``build_app``/``launch``, so ``ui.launcher`` can check options cheaply.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_app", "launch"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ui import app

        return getattr(app, name)
    raise AttributeError(f"module 'ui' has no attribute {name!r}")
