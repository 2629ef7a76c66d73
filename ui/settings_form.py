"""The settings tab's form <-> ``Settings``: only real changes are passed to ``NewsRAG.configure``,
so re-applying the same backend does not reload the local model."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from rag import Settings

BACKENDS = ("local", "openai", "extractive")
BACKEND_HELP = {
    "local": "The bundled Qwen2.5 1.5B on this machine (or the GGUF file below).",
    "openai": "OpenAI, or any OpenAI-compatible server (vLLM, Ollama, llama.cpp) at the base URL below.",
    "extractive": "No model: the answer is the best-supported sentences, quoted from the articles.",
}


def requested_changes(current: Settings, backend: str, openai_model: str, base_url: str, api_key: str,
                      local_model: str, top_k: float) -> dict[str, object]:
    """The settings the form changes. A blank API key keeps the current one (it is never shown)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    wanted: dict[str, object] = {
        "llm": backend,
        "openai_model": openai_model.strip() or current.openai_model,
        "openai_base_url": base_url.strip() or None,
        "local_model": Path(local_model.strip()).expanduser() if local_model.strip() else None,
        "top_k": int(top_k),
    }
    if api_key.strip():
        wanted["openai_api_key"] = SecretStr(api_key.strip())
    return {name: value for name, value in wanted.items() if _differs(getattr(current, name), value)}


def _differs(old: object, new: object) -> bool:
    if isinstance(old, SecretStr) or isinstance(new, SecretStr):
        return _secret(old) != _secret(new)
    return old != new


def _secret(value: object) -> str | None:
    return value.get_secret_value() if isinstance(value, SecretStr) else None


def settings_summary(settings: Settings) -> str:
    """One line saying what will answer the next question."""
    model = {"local": str(settings.local_model or "bundled Qwen2.5 1.5B"),
             "openai": f"{settings.openai_model} at {settings.openai_base_url or 'api.openai.com'}",
             "extractive": "no model"}[settings.llm]
    return f"Answering with **{settings.llm}** ({model}), reading the top **{settings.top_k}** passages."
