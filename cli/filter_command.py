"""``filter``: the portal sidebar filter on a page file or stdin."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sidebar import MODES


def register(subparsers) -> None:
    command = subparsers.add_parser(
        "filter", help="drop or mark bait links in a page's link blocks (HTML in, HTML/JSON out)")
    command.add_argument("page", nargs="?", default="-",
                         help="HTML file to read; '-' or nothing for stdin")
    command.add_argument("--mode", choices=MODES, default="report",
                         help="report: JSON of blocks and scores (default); mark: add "
                              "data-sieve=\"clickbait\" to bait items; remove: drop them")
    command.add_argument("--threshold", type=float, help="p_clickbait cut (default: the model's)")
    command.add_argument("--model", type=Path, help="model directory (default: bundled)")
    command.set_defaults(handler=run_filter)


def read_page(name: str) -> bytes:
    """The page's bytes from a file, or from stdin for ``-``."""
    if name == "-":
        if sys.stdin.isatty():
            raise ValueError("no page: give a file name or pipe the HTML to stdin")
        return sys.stdin.buffer.read()
    path = Path(name)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return path.read_bytes()


def run_filter(args: argparse.Namespace) -> int:
    from model.scoring import load_model
    from sidebar import filter_page

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise ValueError(f"--threshold {args.threshold}: must be between 0 and 1")
    raw = read_page(args.page)
    if not raw.strip():
        raise ValueError("the page is empty")
    result = filter_page(raw, load_model(args.model), mode=args.mode, threshold=args.threshold)
    sys.stdout.buffer.write(result.body)
    if args.mode == "report":
        sys.stdout.buffer.write(b"\n")
    sys.stdout.buffer.flush()
    return 0
