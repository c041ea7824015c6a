"""Train/validation split of a de-duplicated dataset."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from training.dataset import Dataset

DEFAULT_SEED = 20240301
DEFAULT_VALIDATION_FRACTION = 0.2


def split(dataset: Dataset, fraction: float = DEFAULT_VALIDATION_FRACTION,
          seed: int = DEFAULT_SEED) -> tuple[Dataset, Dataset]:
    """Stratified split into (train, validation).

    Strata are label x corpus, so every corpus keeps its clickbait share in
    both parts. The dataset is already unique, so no headline is in both.
    """
    strata = [f"{label}{corpus}" for label, corpus in zip(dataset.y, dataset.corpus)]
    train_idx, valid_idx = train_test_split(np.arange(len(dataset)), test_size=fraction,
                                            random_state=seed, stratify=strata)
    return dataset.subset(np.sort(train_idx)), dataset.subset(np.sort(valid_idx))
