"""``train``, ``eval``, ``score`` and ``explain``: the model's commands."""

from __future__ import annotations

import argparse
import io
import itertools
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from training.corpora import READERS, UNLABELLED_READERS

SCORE_CHUNK = 2000  # headlines scored per vectorised call when streaming


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="train a model version from a recipe")
    train.add_argument("--recipe", default="default",
                       help="recipe name in datasets/recipes/ or path of a .toml file")
    train.add_argument("--data-dir", help="corpora folder (default: $HEADLINE_SIEVE_DATA, "
                                          "else ../shared/datasets beside the project)")
    train.add_argument("--out", type=Path,
                       help="model directory to write (default: the bundled model)")
    train.set_defaults(handler=run_train)

    evaluate = subparsers.add_parser(
        "eval", help="metrics of a model on labelled files",
        description="Without files: the recipe's held-out policy set (per part: real-page "
                    "links, TNEWS pool) and its category validation split, side by side.")
    evaluate.add_argument("files", nargs="*", type=Path,
                          help="labelled files (default: the recipe's held-out data)")
    evaluate.add_argument("--format", default="table",
                          choices=[name for name in READERS if name not in UNLABELLED_READERS],
                          help="reader for FILES; corpus formats are labelled by the recipe's "
                               "category mapping")
    evaluate.add_argument("--policy", type=Path, action="append", default=[], metavar="FILE",
                          help="a policy-labelled TSV (label, headline[, origin]); repeatable")
    evaluate.add_argument("--recipe", default="default",
                          help="the recipe whose held-out data (or category mapping) is used")
    evaluate.add_argument("--data-dir")
    evaluate.add_argument("--model", type=Path, help="model directory (default: bundled)")
    evaluate.set_defaults(handler=run_eval)

    score = subparsers.add_parser("score", help="score headlines; JSON lines out")
    score.add_argument("headlines", nargs="*", help="headlines (default: --file or stdin)")
    score.add_argument("--file", type=Path, help="file with one headline per line")
    score.add_argument("--model", type=Path, help="model directory (default: bundled)")
    score.add_argument("--threshold", type=float, help="p_clickbait cut (default: the model's)")
    score.add_argument("--explain", action="store_true", help="add top contributing n-grams")
    score.add_argument("--progress", action="store_true",
                       help="progress bar on stderr even when it is not a terminal")
    score.set_defaults(handler=run_score)

    explain = subparsers.add_parser("explain", help="why a headline gets its score")
    explain.add_argument("headline")
    explain.add_argument("--model", type=Path)
    explain.add_argument("--top", type=int, default=10, help="number of features shown")
    explain.set_defaults(handler=run_explain)


def load_model(path: Path | None):
    """:func:`model.scoring.load_model`, imported when a command needs a model:
    the command line itself imports no scikit-learn (see service.server)."""
    from model.scoring import load_model as load

    return load(path)


def run_train(args: argparse.Namespace) -> int:
    from model.scoring import BUNDLED_MODEL_DIR
    from training.locations import data_dir
    from training.train import train_recipe

    args.out = args.out or BUNDLED_MODEL_DIR
    manifest = train_recipe(args.recipe, data_dir(args.data_dir), args.out)
    summary = {key: manifest[key] for key in ("version", "threshold", "training_seconds",
                                              "refit_on_held_out")}
    summary["held_out"] = {name: {k: v for k, v in figures.items() if k != "per_source"}
                           for name, figures in manifest["held_out"].items()
                           if isinstance(figures, dict)}
    summary["out"] = str(args.out)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from training.locations import data_dir
    from training.model_evaluation import evaluate_files, evaluate_policy, evaluate_recipe

    model = load_model(args.model)
    if args.policy:
        metrics = {"policy": evaluate_policy(model, args.policy)}
        if args.files:
            metrics["files"] = evaluate_files(model, args.files, args.format, args.recipe)
    elif args.files:
        metrics = evaluate_files(model, args.files, args.format, args.recipe)
    else:
        metrics = evaluate_recipe(model, args.recipe, data_dir(args.data_dir))
    print(json.dumps({"model": model.version, **metrics}, ensure_ascii=False, indent=2))
    return 0


def _input_lines(args: argparse.Namespace) -> Iterator[str]:
    if args.headlines:
        yield from args.headlines
        return
    if args.file:
        if not args.file.is_file():
            raise FileNotFoundError(f"{args.file}: no such file")
        handle = open(args.file, encoding="utf-8")
    else:
        if sys.stdin.isatty():
            raise ValueError("no headlines: give them as arguments, with --file, or on stdin")
        handle = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="strict")
    with handle:
        for line in handle:
            if line.strip():
                yield line.rstrip("\r\n")


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def run_score(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    model = load_model(args.model)
    total = 0
    with tqdm(unit=" headlines", file=sys.stderr,
              disable=False if args.progress else None) as bar:
        try:
            for chunk in _chunks(_input_lines(args), SCORE_CHUNK):
                for result in model.score(chunk, explain=args.explain, threshold=args.threshold):
                    sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
                sys.stdout.flush()
                total += len(chunk)
                bar.update(len(chunk))
        except UnicodeDecodeError as exc:
            raise ValueError(f"input is not valid UTF-8 (after {total} headlines "
                             f"scored, byte {exc.start} of the next block)") from None
    if total == 0:
        raise ValueError("no headlines: the input was empty")
    return 0


def run_explain(args: argparse.Namespace) -> int:
    if not args.headline.strip():
        raise ValueError("the headline is empty")
    model = load_model(args.model)
    result = model.score([args.headline], explain=True, top_k=args.top)[0]
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    return 0
