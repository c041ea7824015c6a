"""Train/validation split of a de-duplicated dataset."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from training.dataset import Dataset

DEFAULT_SEED = 20240301
DEFAULT_VALIDATION_FRACTION = 0.2


def split(dataset: Dataset, fraction: float = DEFAULT_VALIDATION_FRACTION,
          seed: int = DEFAULT_SEED, keep_in_train: set[str] = frozenset()
          ) -> tuple[Dataset, Dataset]:
    """Stratified split into (train, validation).

    Strata are label x corpus, so every corpus keeps its clickbait share in
    both parts. The dataset is already unique, so no headline is in both.
    Headlines in ``keep_in_train`` (e.g. those the policy data labels, which
    the model trains on) always go to the training part; ``fraction`` is of
    the other headlines.
    """
    fixed = np.asarray([t in keep_in_train for t in dataset.texts], dtype=bool)
    free = np.flatnonzero(~fixed)
    corpus = dataset.corpus
    strata = [f"{dataset.y[i]}{corpus[i]}" for i in free]
    train_idx, valid_idx = train_test_split(free, test_size=fraction, random_state=seed,
                                            stratify=strata)
    train_idx = np.concatenate([train_idx, np.flatnonzero(fixed)])
    return dataset.subset(np.sort(train_idx)), dataset.subset(np.sort(valid_idx))
