"""``score-archive``: re-score an archive of headlines on a Dask cluster (model/archive.py)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

DEFAULT_WORKERS = 2  # model.archive.DEFAULT_WORKERS (not imported: dask loads only when run)
DEFAULT_BLOCKSIZE = "32MiB"
CONNECT_TIMEOUT_SECONDS = 5.0


def register(subparsers) -> None:
    command = subparsers.add_parser(
        "score-archive", help="score an archive of headlines on a Dask cluster",
        description="Score every headline of INPUT (CSV, JSON lines or Parquet, by suffix) "
                    "and write OUTPUT (.parquet: a dataset directory; .jsonl/.json: one JSON "
                    "lines file, in input order) with the columns headline, p_clickbait, "
                    "label and model. Null or blank headlines keep their row, with a null "
                    "score. On several machines, INPUT and OUTPUT must be on a filesystem "
                    "every worker sees at the same path (INPUT may be an object store URL).")
    command.add_argument("input", metavar="INPUT",
                         help=".csv, .jsonl/.json/.ndjson, or .parquet (file or directory); "
                              "a glob or fsspec URL works too")
    command.add_argument("output", metavar="OUTPUT", type=Path,
                         help=".parquet (dataset directory) or .jsonl/.json (one file)")
    command.add_argument("--scheduler", metavar="ADDRESS",
                         help="Dask scheduler to use, tcp://HOST:PORT (default: start a local "
                              "cluster on loopback)")
    command.add_argument("--workers", type=int, default=DEFAULT_WORKERS, metavar="N",
                         help="worker processes of the local cluster (default: %(default)s; "
                              "ignored with --scheduler)")
    command.add_argument("--column", default="headline",
                         help="INPUT's headline column (default: %(default)s)")
    source = command.add_mutually_exclusive_group()
    source.add_argument("--model", type=Path, metavar="DIR",
                        help="model directory (default: the bundled model)")
    source.add_argument("--registry", type=Path, metavar="DIR",
                        help="model registry directory: score with its active version")
    command.add_argument("--blocksize", default=DEFAULT_BLOCKSIZE, metavar="BYTES",
                         help="input bytes per partition, e.g. 64MiB (default: %(default)s)")
    command.add_argument("--connect-timeout", type=float, default=CONNECT_TIMEOUT_SECONDS,
                         metavar="SECONDS",
                         help="to reach --scheduler and find a worker (default: %(default)s)")
    command.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    command.add_argument("--progress", action="store_true",
                         help="progress bar on stderr even when it is not a terminal")
    command.set_defaults(handler=run_score_archive)


def _blocksize(text: str) -> int:
    from dask.utils import parse_bytes

    try:
        size = int(parse_bytes(text))
    except (ValueError, TypeError, KeyError):
        raise ValueError(f"--blocksize {text!r}: not a size (e.g. 64MiB, 1000000)") from None
    if size < 1:
        raise ValueError(f"--blocksize {text!r}: must be positive")
    return size


def run_score_archive(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from model.archive import score_archive

    verbose = logging.getLogger().isEnabledFor(logging.INFO)  # -v
    with tqdm(unit=" partitions", file=sys.stderr,
              disable=False if args.progress else None) as bar:
        def progress(done: int, total: int, rows: int) -> None:
            if bar.total != total:  # the first partition: the clock starts with the scoring
                bar.reset(total=total)
            bar.update(done - bar.n)
            bar.set_postfix(rows=f"{rows:,}", refresh=False)

        result = score_archive(args.input, args.output, column=args.column,
                               scheduler=args.scheduler, workers=args.workers,
                               model_dir=args.model, registry_dir=args.registry,
                               blocksize=_blocksize(args.blocksize), overwrite=args.overwrite,
                               connect_timeout=args.connect_timeout, verbose=verbose,
                               progress=progress)
    print(json.dumps(result.to_dict(), ensure_ascii=False))
    return 0
