"""The Python scoring API: order, thresholds, explanations, batches."""

from __future__ import annotations

import numpy as np
import pytest

from model import load_model

GOSSIP = "女星红毯造型惊艳全场,网友:太美了!"
NEWS = "央行宣布下调存款准备金率0.5个百分点"


@pytest.fixture(scope="module")
def model():
    return load_model()


def test_results_in_input_order_with_version(model):
    results = model.score([NEWS, GOSSIP, NEWS])
    assert [r.headline for r in results] == [NEWS, GOSSIP, NEWS]
    assert [r.label for r in results] == ["substantive", "clickbait", "substantive"]
    assert results[0].p_clickbait == results[2].p_clickbait
    assert all(r.model == model.version for r in results)
    assert all(0.0 <= r.p_clickbait <= 1.0 for r in results)


def test_threshold_override_changes_labels_not_probabilities(model):
    default = model.score([NEWS, GOSSIP])
    everything = model.score([NEWS, GOSSIP], threshold=0.0)
    assert [r.label for r in everything] == ["clickbait", "clickbait"]
    assert [r.p_clickbait for r in everything] == [r.p_clickbait for r in default]


def test_traditional_and_full_width_forms_score_the_same(model):
    simplified, traditional = model.score(["台湾经济增长放缓", "臺灣經濟增長放緩"])
    assert simplified.p_clickbait == pytest.approx(traditional.p_clickbait, abs=1e-6)


def test_explanation_names_contributing_ngrams(model):
    result = model.score([GOSSIP], explain=True, top_k=5)[0]
    assert len(result.explanation) == 5
    weights = [w for _, w in result.explanation]
    assert weights == sorted(weights, key=abs, reverse=True)
    assert all(name.split(":")[0] in {"word", "char", "style", "bait"} for name, _ in result.explanation)
    assert sum(w for _, w in result.explanation) > 0  # pushes towards clickbait
    assert "explanation" not in model.score([GOSSIP])[0].to_dict()


def _entertainment_or_not() -> tuple[list[str], list[int]]:
    """600 THUCNews dev headlines and 1 where the category is entertainment."""
    from training.corpora import read_corpus
    from training.locations import data_dir

    rows = read_corpus("thucnews", data_dir() / "thucnews/dev.txt").rows[:600]
    return [r.text for r in rows], [int(r.category == "entertainment") for r in rows]


def test_binary_contributions_add_up_to_the_log_odds():
    from model import HeadlineClassifier

    texts, y = _entertainment_or_not()
    clf = HeadlineClassifier(folds=2).fit(texts, y)  # no topic prior
    features = clf.transform(texts[:20])
    total = np.asarray(clf.contributions(features).sum(axis=1)).ravel() + clf.intercept_[0]
    assert np.allclose(total, clf.decision_function(texts[:20]), atol=1e-4)


def test_batch_equals_single_scoring(model):
    batch = [NEWS, GOSSIP, "中国足球7-0大胜关岛", "张若昀甜蜜表白唐艺昕"] * 50
    together = model.predict_proba(batch)
    alone = np.array([model.predict_proba([h])[0] for h in batch[:4]])
    assert np.allclose(together[:4], alone)
    assert model.score([]) == []


def _worker_processes() -> list:
    import psutil

    commands = [" ".join(child.cmdline()) for child in psutil.Process().children(recursive=True)]
    return [command for command in commands  # joblib's workers, not its resource tracker
            if "joblib" in command and "resource_tracker" not in command]


def test_a_parallel_fit_stops_its_worker_processes():
    """The regressions of a fit run in joblib's worker processes, each holding
    its copy of the data; the fit stops them rather than leaving them idle for
    joblib's 300 s (they were 480 MB of the training peak at 4x the corpora)."""
    from joblib import parallel_config

    from model import HeadlineClassifier

    texts, y = _entertainment_or_not()
    with parallel_config(n_jobs=2):
        clf = HeadlineClassifier(folds=2).fit(texts, y)
    assert clf.predict_proba(texts[:3]).shape == (3, 2)
    assert _worker_processes() == []
