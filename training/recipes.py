"""Recipes: which files to train on, in which role, and how categories map to labels.

A recipe is a TOML file (``datasets/recipes/NAME.toml``)::

    name = "default"

    [[policy]]                     # labelled under POLICY.md: the target
    path = "policy_gold/train.tsv" # a table file (label, headline[, origin])

    [[policy]]                     # labels the project wrote (in datasets/), whose rows
    labels = "policy_labels/x.tsv" # point at headlines of the data dir (no text copied)

    [[sources]]                    # category corpora: the topic prior
    corpus = "thucnews"            # reader, see training.corpora.READERS
    path = "thucnews/dev.txt"      # relative to the data directory
    clickbait = ["entertainment"]  # categories the policy's category table calls clickbait
    # every other category of the file counts as substantive

    [evaluation]
    policy = ["policy_gold/dev.tsv"]  # held out: never trained on before it is measured
    refit = true                   # then refit the saved model on everything

The ``clickbait`` lists are the only place the category approximation of the
policy is written down: the category validation split, ``eval --format`` on
corpus files and the retraining gate read it from here.
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
class PolicyFile:
    """A policy-labelled file: a table in the data directory, or (``by_reference``)
    a label file of the project's ``datasets/`` folder whose rows name a corpus
    file and line (:func:`training.corpora.read_label_references`)."""

    path: str
    by_reference: bool = False


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    sources: tuple[Source, ...]
    path: Path
    policy: tuple[PolicyFile, ...] = ()
    evaluation_policy: tuple[PolicyFile, ...] = ()
    refit: bool = False

    def files(self) -> list[str]:
        """The data-dir files the recipe reads directly, relative to the data dir."""
        return ([s.path for s in self.sources]
                + [f.path for f in self.policy + self.evaluation_policy if not f.by_reference])

    def clickbait_categories(self, corpus: str) -> frozenset[str]:
        """The categories of ``corpus`` this recipe labels clickbait (union over its sources)."""
        if corpus == "table":
            return frozenset({"clickbait"})
        found = [s.clickbait for s in self.sources if s.corpus == corpus]
        if not found:
            raise CorpusError(f"recipe {self.name!r} has no {corpus!r} source to say which "
                              "categories are clickbait")
        return frozenset().union(*found)


def recipe_path(name_or_path: str | Path) -> Path:
    """A recipe given by name (``default``) or by the path of a TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml":
        return candidate
    return RECIPES_DIR / f"{name_or_path}.toml"


def _policy_files(path: Path, entries, section: str) -> tuple[PolicyFile, ...]:
    if not isinstance(entries, list):
        raise CorpusError(f"{path}: '{section}' must be a list")
    files = []
    for entry in entries:
        entry = entry if isinstance(entry, dict) else {"path": entry}
        value = entry.get("path") or entry.get("labels")
        if not isinstance(value, str) or not value:
            raise CorpusError(f"{path}: every '{section}' entry needs a 'path' (a table in the "
                              "data dir) or 'labels' (a label file in datasets/)")
        files.append(PolicyFile(value, by_reference="labels" in entry))
    return tuple(files)


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
    policy = _policy_files(path, raw.get("policy", []), "policy")
    evaluation = raw.get("evaluation", {})
    if not sources and not policy:
        raise CorpusError(f"{path}: a recipe needs at least one [[policy]] or [[sources]] entry")
    return Recipe(raw.get("name", path.stem), raw.get("description", ""), tuple(sources), path,
                  policy,
                  _policy_files(path, evaluation.get("policy", []), "evaluation.policy"),
                  bool(evaluation.get("refit", False)))
