"""Recipes: which corpus files to read and how their categories map to labels.

A recipe is a TOML file (``datasets/recipes/NAME.toml``)::

    name = "default"
    [[sources]]
    corpus = "thucnews"            # reader, see training.corpora.READERS
    path = "thucnews/dev.txt"      # relative to the data directory
    clickbait = ["entertainment"]  # categories labelled clickbait
    # every other category of the file is labelled substantive
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from training.corpora import READERS, CorpusError
from training.locations import RECIPES_DIR


@dataclass(frozen=True)
class Source:
    corpus: str
    path: str
    clickbait: frozenset[str]

    def label(self, category: str) -> int:
        """1 (clickbait) if ``category`` is listed as clickbait, else 0."""
        return int(category in self.clickbait)


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    sources: tuple[Source, ...]
    path: Path


def recipe_path(name_or_path: str | Path) -> Path:
    """A recipe given by name (``default``) or by the path of a TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml":
        return candidate
    return RECIPES_DIR / f"{name_or_path}.toml"


def load_recipe(name_or_path: str | Path) -> Recipe:
    path = recipe_path(name_or_path)
    if not path.is_file():
        known = sorted(p.stem for p in RECIPES_DIR.glob("*.toml"))
        raise CorpusError(f"no recipe {str(name_or_path)!r}; known recipes: {', '.join(known)}"
                          " (or give the path of a .toml file)")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: not valid TOML ({exc})") from exc
    sources = []
    for i, entry in enumerate(raw.get("sources", [])):
        if entry.get("corpus") not in READERS or not entry.get("path"):
            raise CorpusError(f"{path}: source {i + 1} needs 'path' and a 'corpus' "
                              f"among {sorted(READERS)}")
        sources.append(Source(entry["corpus"], entry["path"],
                              frozenset(map(str, entry.get("clickbait", [])))))
    if not sources:
        raise CorpusError(f"{path}: a recipe needs at least one [[sources]] entry")
    return Recipe(raw.get("name", path.stem), raw.get("description", ""), tuple(sources), path)
