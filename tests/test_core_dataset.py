"""De-duplication on normalised text, the conflict rule, and the split."""

from __future__ import annotations

import numpy as np

from training.corpora import read_corpus
from training.dataset import DatasetReport, build_dataset, build_policy, deduplicate
from training.locations import data_dir
from training.recipes import PolicyFile, load_recipe
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
    assert recipe.policy == (PolicyFile("policy_gold/train.tsv"),
                             PolicyFile("policy_labels/fashion_beauty.tsv", by_reference=True))
    assert recipe.evaluation_policy == (PolicyFile("policy_gold/dev.tsv"),) and recipe.refit
    assert {s.path for s in recipe.sources} == {
        "thucnews/dev.txt", "thucnews/test.txt", "thucnews_extra/train.txt", "tnews/dev.json",
        "tnews/test.json", "tnews/fewclue_train.json", "tnews/fewclue_dev.json",
        "toutiao_extra/toutiao_extra.txt", "hancd/sina.csv"}
    clickbait = {s.corpus: s.clickbait for s in recipe.sources}
    assert clickbait == {"thucnews": {"entertainment"},
                         "tnews": {"news_entertainment", "news_story"},
                         "toutiao": {"news_entertainment", "news_story"}, "hancd": {"1"}}
    assert recipe.clickbait_categories("table") == {"clickbait"}
    hancd = read_corpus("hancd", data_dir() / "hancd/sina.csv")
    labels = np.array([int(r.category) for r in hancd.rows])
    assert 0 < labels.mean() < 1


def test_policy_files_are_split_by_origin_and_held_out_of_everything(tmp_path):
    """Evaluation headlines are removed from the policy training rows and the
    category corpora; policy headlines never fall in the category validation split."""
    from training.train import load_training_data

    (tmp_path / "class.txt").write_text("finance\nentertainment\n", encoding="utf-8")
    cats = [f"财经新闻第{i}条\t0" for i in range(40)] + [f"明星八卦第{i}条\t1" for i in range(40)]
    (tmp_path / "c.txt").write_text("\n".join(cats + ["央行宣布降准\t0"]) + "\n", encoding="utf-8")
    (tmp_path / "train.tsv").write_text(
        "label\theadline\torigin\nclickbait\t明星八卦第1条\tunlabeled/x.json\n"
        "substantive\t央行宣布降準\tunlabeled/x.json\nclickbait\t震惊!竟然这样\t\n",
        encoding="utf-8")
    (tmp_path / "dev.tsv").write_text(
        "label\theadline\torigin\nsubstantive\t财经新闻第3条\texamples/real_pages/a.html\n"
        "clickbait\t震惊!竟然这样\tunlabeled/x.json\n", encoding="utf-8")
    recipe = tmp_path / "r.toml"
    recipe.write_text('name = "t"\n[[policy]]\npath = "train.tsv"\n[[sources]]\n'
                      'corpus = "thucnews"\npath = "c.txt"\nclickbait = ["entertainment"]\n'
                      '[evaluation]\npolicy = ["dev.tsv"]\n', encoding="utf-8")
    data = load_training_data(load_recipe(recipe), tmp_path, fraction=0.25)
    assert sorted(data.policy.texts) == ["央行宣布降准", "明星八卦第1条"]  # traditional twin folded
    assert dict(zip(data.evaluation.texts, data.evaluation.categories)) == {
        "财经新闻第3条": "real_pages", "震惊!竟然这样": "unlabeled"}
    everywhere = set(data.topics.texts) | set(data.topics_validation.texts)
    assert "财经新闻第3条" not in everywhere and len(everywhere) == 80
    assert {"央行宣布降准", "明星八卦第1条"} <= set(data.topics.texts)
    assert len(data.topics_validation) == 20


def test_label_references_resolve_and_check_their_headlines(tmp_path):
    """The project's label files name corpus lines; a changed line is a reported problem."""
    import hashlib

    from model.normalize import normalize
    from training.corpora import read_label_references

    (tmp_path / "class.txt").write_text("finance\nentertainment\n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("股市大涨\t0\n香奈儿春夏系列发布\t0\n", encoding="utf-8")
    digest = hashlib.sha256(normalize("香奈儿春夏系列发布").encode()).hexdigest()[:8]
    labels = tmp_path / "labels.tsv"
    labels.write_text("label\tcorpus\tpath\tline\tsha256_8\n"
                      f"clickbait\tthucnews\tc.txt\t2\t{digest}\n"
                      f"clickbait\tthucnews\tc.txt\t1\t{digest}\n"
                      f"substantive\tthucnews\tc.txt\t9\t{digest}\n", encoding="utf-8")
    read = read_label_references(labels, tmp_path)
    assert [(r.text, r.category, r.origin) for r in read.rows] == [
        ("香奈儿春夏系列发布", "clickbait", "c.txt")]
    assert [(p.line, p.reason.split()[0]) for p in read.problems] == [(3, "the"), (4, "no")]


def test_the_projects_label_files_match_the_shared_corpora():
    data = build_policy(load_recipe("default").policy, data_dir())
    assert not data.report.problems
    assert data.report.files[1].rows == 36


def test_training_data_reads_a_corpus_its_label_references_share_once(tmp_path, monkeypatch):
    """Label references point into the recipe's sources: one read serves both."""
    import hashlib

    import training.corpora as corpora
    import training.dataset as dataset
    from model.normalize import normalize
    from training.train import load_training_data

    (tmp_path / "class.txt").write_text("finance\nentertainment\n", encoding="utf-8")
    lines = [f"股市大涨第{i}天\t0" for i in range(40)] + [f"明星恋情第{i}回\t1" for i in range(40)]
    (tmp_path / "c.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    digest = hashlib.sha256(normalize("股市大涨第3天").encode()).hexdigest()[:8]
    (tmp_path / "labels.tsv").write_text("label\tcorpus\tpath\tline\tsha256_8\n"
                                         f"clickbait\tthucnews\tc.txt\t4\t{digest}\n",
                                         encoding="utf-8")
    monkeypatch.setattr(dataset, "DATASETS_DIR", tmp_path)
    recipe = tmp_path / "r.toml"
    recipe.write_text('name = "t"\n[[policy]]\nlabels = "labels.tsv"\n[[sources]]\n'
                      'corpus = "thucnews"\npath = "c.txt"\nclickbait = ["entertainment"]\n',
                      encoding="utf-8")
    opened = []
    reader = corpora.READERS["thucnews"]
    monkeypatch.setitem(corpora.READERS, "thucnews",
                        lambda path: opened.append(path.name) or reader(path))
    data = load_training_data(load_recipe(recipe), tmp_path)
    assert opened == ["c.txt"]
    assert data.policy.texts == [normalize("股市大涨第3天")] and data.policy.y.tolist() == [1]
    assert len(data.topics) + len(data.topics_validation) == 80
