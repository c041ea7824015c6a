"""Corpus readers on malformed input: counted with file and line, never fatal."""

from __future__ import annotations

import json

import pytest

from training.corpora import CorpusError, read_corpus


def test_thucnews_reports_bad_rows_and_keeps_good_ones(tmp_path):
    (tmp_path / "class.txt").write_text("finance\nentertainment\n", encoding="utf-8")
    path = tmp_path / "dev.txt"
    path.write_bytes("股市大涨\t0\n没有制表符\n明星新恋情\t1\n越界\t7\n".encode()
                     + b"\xff\xfe broken\t0\n" + "\t1\n最后一行\t0".encode())
    read = read_corpus("thucnews", path)
    assert [(r.text, r.category, r.line) for r in read.rows] == [
        ("股市大涨", "finance", 1), ("明星新恋情", "entertainment", 3), ("最后一行", "finance", 7)]
    assert [(p.line, p.reason.split()[0]) for p in read.problems] == [
        (2, "expected"), (4, "expected"), (5, "not"), (6, "empty")]
    assert str(read.problems[0]).startswith(f"{path}:2:")


def test_tnews_label_int_or_string_and_label_file(tmp_path):
    (tmp_path / "labels.json").write_text(
        '{"label": "102", "label_desc": "news_entertainment"}\n', encoding="utf-8")
    path = tmp_path / "dev.json"
    lines = [
        {"label": "103", "label_desc": "news_sports", "sentence": "球队夺冠"},
        {"label": 102, "sentence": "明星婚礼"},  # int label, name from labels.json
        {"label": 999, "sentence": "未知类别"},
        {"label_desc": "news_world"},  # no sentence
    ]
    text = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n{not json\n[1, 2]\n"
    path.write_text(text, encoding="utf-8")
    read = read_corpus("tnews", path)
    assert [(r.text, r.category) for r in read.rows] == [
        ("球队夺冠", "news_sports"), ("明星婚礼", "news_entertainment")]
    assert [p.line for p in read.problems] == [3, 4, 5, 6]


def test_hancd_csv_with_bad_label_and_multiline_content(tmp_path):
    path = tmp_path / "sina.csv"
    path.write_text('"1","震惊!原来是这样","正文\n第二行","sina"\n'
                    '"x","标签错误","正文","sina"\n'
                    '"0","北京发布通知","正文","sina"\n', encoding="utf-8")
    read = read_corpus("hancd", path)
    assert [(r.text, r.category) for r in read.rows] == [("震惊!原来是这样", "1"),
                                                          ("北京发布通知", "0")]
    assert len(read.problems) == 1 and "label 0 or 1" in read.problems[0].reason


@pytest.mark.parametrize("suffix,body", [
    (".csv", "headline,label\n央行降准,substantive\n女星晒照,clickbait\n坏行,maybe\n"),
    (".tsv", "label\theadline\n0\t央行降准\n1\t女星晒照\nmaybe\t坏行\n"),
    (".jsonl", '{"headline": "央行降准", "label": "substantive"}\n'
               '{"headline": "女星晒照", "label": 1}\n{"headline": "坏行", "label": "?"}\n'),
])
def test_user_table_formats(tmp_path, suffix, body):
    path = tmp_path / f"mine{suffix}"
    path.write_text(body, encoding="utf-8")
    read = read_corpus("table", path)
    assert [(r.text, r.category) for r in read.rows] == [("央行降准", "substantive"),
                                                          ("女星晒照", "clickbait")]
    assert len(read.problems) == 1


def test_policy_table_keeps_the_origin(tmp_path):
    path = tmp_path / "gold.tsv"
    path.write_text("label\theadline\torigin\nclickbait\t女星晒照\texamples/real_pages/a.html\n"
                    "substantive\t央行降准\t\n", encoding="utf-8")
    read = read_corpus("table", path)
    assert [(r.text, r.category, r.origin) for r in read.rows] == [
        ("女星晒照", "clickbait", "examples/real_pages/a.html"), ("央行降准", "substantive", "")]


def test_toutiao_reader_maps_indices_to_tnews_names(tmp_path):
    path = tmp_path / "toutiao.txt"
    path.write_text("张艺兴片场花絮_!_2\n没有分隔符\n越界_!_15\n油价下调_!_4\n", encoding="utf-8")
    read = read_corpus("toutiao", path)
    assert [(r.text, r.category) for r in read.rows] == [("张艺兴片场花絮", "news_entertainment"),
                                                          ("油价下调", "news_finance")]
    assert [p.line for p in read.problems] == [2, 3]


def test_user_table_without_header_is_an_error(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("央行降准,substantive\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="header"):
        read_corpus("table", path)


def test_missing_file_and_unknown_reader(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        read_corpus("thucnews", tmp_path / "nope.txt")
    with pytest.raises(CorpusError, match="unknown reader"):
        read_corpus("xml", tmp_path / "nope.txt")
