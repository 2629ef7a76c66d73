"""What a dataset run needs, from a TOML config file overridden by command-line options.

The default config (``eval/config.toml``) names the corpus the seeds dataset is about and may hold CI
thresholds. Paths in a config file are relative to that file, so the command works from any directory.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eval.metrics import MetricInputError, SUMMARY_METRICS, parse_threshold

DEFAULT_CONFIG = Path(__file__).with_name("config.toml")
_KEYS = {"corpus", "judge", "min", "max"}


class ConfigFileError(ValueError):
    """The eval config file is unreadable or has an unknown key / a bad value."""


@dataclass(frozen=True)
class EvalConfig:
    """One dataset run. ``corpus`` is ingested into a fresh index under ``index_dir`` before answering."""

    dataset: Path
    out: Path
    corpus: tuple[Path, ...] = ()
    index_dir: Path | None = None  # default: OUT/index with a corpus, else the configured RAG_DATA_DIR
    judge: str = "local"
    max_items: int | None = None
    seed: int = 0
    minimums: Mapping[str, float] = field(default_factory=dict)
    maximums: Mapping[str, float] = field(default_factory=dict)

    @property
    def index_path(self) -> Path | None:
        """Where the run's index lives; None = the user's configured index, used as it is."""
        return self.index_dir or (self.out / "index" if self.corpus else None)


def read_config_file(path: Path) -> dict[str, Any]:
    """The file's settings, validated, with paths made absolute relative to the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigFileError(f"{path}: cannot read the eval config ({exc})") from exc
    unknown = set(data) - _KEYS
    if unknown:
        raise ConfigFileError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_KEYS))}")
    settings: dict[str, Any] = {}
    if "corpus" in data:
        settings["corpus"] = tuple((path.parent / p).resolve() for p in _strings(data["corpus"], "corpus", path))
    if "judge" in data:
        settings["judge"] = str(data["judge"])
    for key, target in (("min", "minimums"), ("max", "maximums")):
        settings[target] = _limits(data.get(key, {}), key, path)
    return settings


def _strings(value: Any, key: str, path: Path) -> list[str]:
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ConfigFileError(f"{path}: {key} must be a list of strings")
    return value


def _limits(table: Any, key: str, path: Path) -> dict[str, float]:
    if not isinstance(table, dict):
        raise ConfigFileError(f"{path}: [{key}] must be a table of METRIC = VALUE")
    limits = {}
    for name, value in table.items():
        if name not in SUMMARY_METRICS or not isinstance(value, (int, float)):
            raise ConfigFileError(f"{path}: [{key}] {name} = {value!r}: the metric must be one of "
                                  f"{', '.join(SUMMARY_METRICS)} and the value a number")
        limits[name] = float(value)
    return limits


def build_config(dataset: Path, out: Path, config_file: Path | None = None, *, corpus: Sequence[Path] = (),
                 judge: str | None = None, max_items: int | None = None, seed: int = 0,
                 index_dir: Path | None = None, minimums: Sequence[str] = (),
                 maximums: Sequence[str] = ()) -> EvalConfig:
    """File settings first, then the options given on the command line (``--min`` adds to/overrides the file's)."""
    from_file = read_config_file(config_file) if config_file else {}
    config = replace(EvalConfig(dataset=dataset, out=out), **from_file)
    try:
        command_min = dict(parse_threshold(t) for t in minimums)
        command_max = dict(parse_threshold(t) for t in maximums)
    except MetricInputError as exc:
        raise ConfigFileError(str(exc)) from exc
    return replace(
        config, corpus=tuple(corpus) or config.corpus, judge=judge or config.judge, max_items=max_items,
        seed=seed, index_dir=index_dir, minimums={**config.minimums, **command_min},
        maximums={**config.maximums, **command_max},
    )
