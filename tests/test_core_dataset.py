"""De-duplication on normalised text, the conflict rule, and the split."""

from __future__ import annotations

import numpy as np

from training.corpora import read_corpus
from training.dataset import DatasetReport, build_dataset, deduplicate
from training.locations import data_dir
from training.recipes import load_recipe
from training.splits import split


def test_conflicts_majority_wins_tie_is_dropped():
    report = DatasetReport()
    data = deduplicate(["a", "a", "a", "b", "b", "c"], [1, 1, 0, 0, 1, 0],
                       ["x:1", "y:1", "z:0", "x:0", "y:1", "z:0"], report)
    assert dict(zip(data.texts, data.y.tolist())) == {"a": 1, "c": 0}
    assert data.categories.tolist() == ["x:1", "z:0"]
    assert (report.duplicates, report.conflicts_resolved, report.conflicts_dropped) == (3, 1, 1)


def test_traditional_twin_in_another_file_is_one_headline(tmp_path):
    (tmp_path / "class.txt").write_text("finance\nentertainment\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("央行宣布降准\t0\n明星新恋情曝光\t1\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("央行宣布降準\t0\n女星红毯造型\t1\n", encoding="utf-8")
    recipe = tmp_path / "r.toml"
    recipe.write_text('name = "t"\n[[sources]]\ncorpus = "thucnews"\npath = "a.txt"\n'
                      'clickbait = ["entertainment"]\n[[sources]]\ncorpus = "thucnews"\n'
                      'path = "b.txt"\nclickbait = ["entertainment"]\n', encoding="utf-8")
    data = build_dataset(load_recipe(recipe), tmp_path)
    assert sorted(data.texts) == sorted(["央行宣布降准", "明星新恋情曝光", "女星红毯造型"])
    assert data.report.duplicates == 1


def test_default_split_is_disjoint_stratified_and_fixed():
    data = build_dataset(load_recipe("default"), data_dir())
    rows = sum(f.rows for f in data.report.files)
    assert rows == data.report.rows > 35_000
    train, valid = split(data)
    assert not set(train.texts) & set(valid.texts)
    assert len(train) + len(valid) == len(data)
    assert abs(len(valid) / len(data) - 0.2) < 0.001
    for corpus in ("thucnews", "tnews", "hancd"):
        share_train = train.y[train.corpus == corpus].mean()
        share_valid = valid.y[valid.corpus == corpus].mean()
        assert abs(share_train - share_valid) < 0.02, corpus
    again, _ = split(data)
    assert again.texts == train.texts


def test_label_policy_of_the_default_recipe():
    recipe = load_recipe("default")
    assert {s.path for s in recipe.sources} == {
        "thucnews/dev.txt", "thucnews/test.txt", "tnews/dev.json", "tnews/test.json",
        "tnews/fewclue_train.json", "tnews/fewclue_dev.json", "hancd/sina.csv"}
    clickbait = {s.corpus: s.clickbait for s in recipe.sources}
    assert clickbait == {"thucnews": {"entertainment"},
                         "tnews": {"news_entertainment", "news_story"}, "hancd": {"1"}}
    hancd = read_corpus("hancd", data_dir() / "hancd/sina.csv")
    labels = np.array([int(r.category) for r in hancd.rows])
    assert 0 < labels.mean() < 1
