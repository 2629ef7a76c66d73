"""``python -m ui [--data-dir DIR] [OPTIONS]``: the same as ``rag [--data-dir DIR] ui [OPTIONS]``."""

from __future__ import annotations

import sys


def split_global_options(args: list[str]) -> tuple[list[str], list[str]]:
    """Move ``--data-dir`` (an option of ``rag`` itself) in front of the ``ui`` command."""
    global_args: list[str] = []
    rest: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--data-dir":
            global_args += [arg, next(items, "")]
        elif arg.startswith("--data-dir="):
            global_args.append(arg)
        else:
            rest.append(arg)
    return global_args, rest


def main() -> None:
    from rag.cli import main as rag_main

    global_args, rest = split_global_options(sys.argv[1:])
    sys.argv = ["python -m ui", *global_args, "ui", *rest]
    rag_main()


if __name__ == "__main__":
    main()
