"""fastText supervised, the model an engineer would try instead (the baseline).

Input is the headline segmented by rjieba (jieba's dictionary and algorithm,
the segmenter our model uses), lower-cased, tokens joined by spaces. Like
our model, a batch is segmented in one call on the newline-joined text.
Hyper-parameters are chosen on a validation part carved from the training
data only (never the test data): word n-grams 1-2 and a small grid of
learning rate, epochs and dimension.
"""

from __future__ import annotations

import itertools
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

log = logging.getLogger(__name__)

LABEL_PREFIX = "__label__"
VALIDATION_FRACTION = 0.2
SEED = 20240301


def tokenise(texts: Sequence[str]) -> list[str]:
    """Each headline as space-separated rjieba tokens (lower-cased)."""
    import rjieba

    joined = "\n".join(texts).lower()
    if joined.count("\n") != len(texts) - 1:  # a headline with a newline of its own
        return [" ".join(rjieba.cut(text.replace("\n", " ").lower())) for text in texts]
    return " ".join(rjieba.cut(joined)).split("\n")


@dataclass
class FastText:
    """A trained fastText classifier and its label order."""

    model: object
    labels: list[str]
    params: dict

    def proba(self, tokenised: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape (n, n_labels), columns in ``labels`` order."""
        names, probs = self.model.predict(list(tokenised), k=len(self.labels))
        column = {LABEL_PREFIX + label: j for j, label in enumerate(self.labels)}
        result = np.zeros((len(names), len(self.labels)))
        for i, (row_names, row_probs) in enumerate(zip(names, probs)):
            for name, p in zip(row_names, row_probs):
                result[i, column[name]] = p
        return result

    def save(self, path: Path) -> None:
        self.model.save_model(str(path))


def train(tokenised: Sequence[str], labels: Sequence[str], params: dict,
          threads: int = 2) -> FastText:
    """fastText supervised on ``tokenised`` texts with string ``labels``."""
    import fasttext

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        with open(path, "w", encoding="utf-8") as handle:
            for text, label in zip(tokenised, labels):
                handle.write(f"{LABEL_PREFIX}{label} {text}\n")
        model = fasttext.train_supervised(input=str(path), thread=threads, verbose=0,
                                          minCount=1, seed=SEED, **params)
    return FastText(model, sorted(set(map(str, labels))), dict(params))


@dataclass
class Tuned:
    """The grid search: every combination's validation score, the best one,
    the final model (trained on all the training data) and the best model's
    validation predictions (for a threshold)."""

    best: dict
    scores: list[dict] = field(default_factory=list)
    final: FastText | None = None
    valid_y: np.ndarray | None = None
    valid_proba: np.ndarray | None = None


def grid(space: dict) -> list[dict]:
    names = sorted(space)
    return [dict(zip(names, values)) for values in itertools.product(*(space[n] for n in names))]


def tune(tokenised: Sequence[str], labels: Sequence[str], space: dict,
         score: Callable[[np.ndarray, np.ndarray, list[str]], float]) -> Tuned:
    """Pick the combination of ``space`` with the highest ``score(y_valid,
    proba, label_order)`` on a stratified validation part of the training
    data, then train it on all of it."""
    labels = np.asarray(list(map(str, labels)))
    inner, valid = train_test_split(np.arange(len(labels)), test_size=VALIDATION_FRACTION,
                                    random_state=SEED, stratify=labels)
    texts = list(tokenised)
    tuned = Tuned(best={})
    best_score = -np.inf
    for params in grid(space):
        model = train([texts[i] for i in inner], labels[inner], params)
        proba = model.proba([texts[i] for i in valid])
        value = float(score(labels[valid], proba, model.labels))
        tuned.scores.append({**params, "score": round(value, 4)})
        log.info("fastText %s: validation %.4f", params, value)
        if value > best_score:
            best_score, tuned.best = value, params
            tuned.valid_y, tuned.valid_proba = labels[valid], proba
    tuned.final = train(texts, labels, tuned.best)
    return tuned
