"""headline-sieve model: features, classifier, artifacts and the scoring API.

>>> from model import load_model
>>> results = load_model().score(["...", "..."])
"""

from model.artifacts import ArtifactError
from model.classifier import LABELS, HeadlineClassifier
from model.scoring import BUNDLED_MODEL_DIR, Model, ScoreResult, load_model

__all__ = ["ArtifactError", "BUNDLED_MODEL_DIR", "HeadlineClassifier", "LABELS", "Model",
           "ScoreResult", "load_model"]
