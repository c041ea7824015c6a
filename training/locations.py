"""Where the project finds its corpora and recipes."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "HEADLINE_SIEVE_DATA"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATASETS_DIR = PROJECT_ROOT / "datasets"  # recipes and labels the project writes
RECIPES_DIR = DATASETS_DIR / "recipes"


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The corpora folder: ``explicit`` (``--data-dir``), else ``$HEADLINE_SIEVE_DATA``,
    else ``../shared/datasets`` beside the project root."""
    if explicit:
        return Path(explicit)
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    return PROJECT_ROOT.parent / "shared" / "datasets"
