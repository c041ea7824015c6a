"""The scoring API: load a model version and score batches of headlines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence

import numpy as np

from model.artifacts import load_artifact
from model.classifier import LABELS

BUNDLED_MODEL_DIR = Path(__file__).resolve().parent / "bundled"


@dataclass(frozen=True)
class ScoreResult:
    headline: str
    label: str
    p_clickbait: float
    model: str
    explanation: list[tuple[str, float]] | None = None

    def to_dict(self) -> dict:
        """The JSON form (``explanation`` only when there is one). Built field by
        field: dataclasses.asdict deep-copies and costs ~30 us a result."""
        data = {"headline": self.headline, "label": self.label,
                "p_clickbait": self.p_clickbait, "model": self.model}
        if self.explanation is not None:
            data["explanation"] = [{"feature": f, "weight": w} for f, w in self.explanation]
        return data


class Model:
    """A loaded model version: a fitted ``HeadlineClassifier`` and its manifest."""

    def __init__(self, classifier, manifest: dict):
        self.classifier = classifier
        self.manifest = manifest
        self._names: np.ndarray | None = None

    def warm(self) -> "Model":
        """Build the scoring lookup tables and load the segmenter's dictionary now
        (both scoring paths: one headline and a batch), so that the first
        request after a load is not the one that pays for them; returns self."""
        for n in (1, 16):
            self.predict_proba(["国务院召开常务会议 部署经济工作"] * n)
        return self

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def threshold(self) -> float:
        return float(self.manifest.get("threshold", self.classifier.threshold_))

    def predict_proba(self, headlines: Sequence[str]) -> np.ndarray:
        """Calibrated p_clickbait, shape (n,)."""
        p_clickbait = getattr(self.classifier, "p_clickbait", None)  # no (n, 2) array
        if p_clickbait is not None:
            return p_clickbait(list(headlines))
        return self.classifier.predict_proba(list(headlines))[:, 1]

    def score(self, headlines: Sequence[str], explain: bool = False,
              threshold: float | None = None, top_k: int = 5) -> list[ScoreResult]:
        """Score a batch in one vectorised pass; results in input order.

        ``label`` is ``clickbait`` where p_clickbait >= ``threshold`` (the
        model's stored threshold unless given). With ``explain``, each result
        carries the ``top_k`` features with the largest absolute contribution
        (feature value x weight, in log-odds) to its score.
        """
        headlines = list(headlines)
        if not headlines:
            return []
        cut = self.threshold if threshold is None else float(threshold)
        if explain:
            features = self.classifier.transform(headlines)
            p = self.classifier.correct(headlines,
                                        self.classifier.p_clickbait_from_features(features))
            explanations = self._explain(features, top_k)
        else:
            p = self.predict_proba(headlines)
            explanations = [None] * len(headlines)
        return [ScoreResult(h, LABELS[int(pi >= cut)], round(pi, 6), self.version, e)
                for h, pi, e in zip(headlines, p.tolist(), explanations)]  # Python floats

    def _explain(self, features, top_k: int) -> list[list[tuple[str, float]]]:
        if self._names is None:
            self._names = np.asarray([_readable(n) for n in self.classifier.feature_names()],
                                     dtype=object)
        contributions = self.classifier.contributions(features)
        result = []
        for i in range(contributions.shape[0]):
            start, end = contributions.indptr[i], contributions.indptr[i + 1]
            cols, vals = contributions.indices[start:end], contributions.data[start:end]
            order = np.argsort(-np.abs(vals))[:top_k]
            result.append([(str(self._names[cols[j]]), round(float(vals[j]), 4)) for j in order])
        return result


def _readable(name: str) -> str:
    """``word__明星 八卦`` -> ``word:明星 八卦``."""
    kind, _, term = name.partition("__")
    return f"{kind}:{term}"


def load_model(path: str | Path | None = None) -> Model:
    """Load the model version in directory ``path`` (default: the bundled model).

    Raises :class:`model.artifacts.ArtifactError` if the directory is not a
    model or its joblib file fails the SHA-256 check.
    """
    classifier, manifest = load_artifact(Path(path) if path else BUNDLED_MODEL_DIR)
    return Model(classifier, manifest).warm()
