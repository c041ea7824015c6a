"""Normalisation is the same for training and scoring, and for one or many."""

from __future__ import annotations

from model.normalize import normalize, normalize_many


def test_nfkc_folds_full_width_forms():
    assert normalize("ＡＢＣ１２３！？") == "ABC123!?"


def test_traditional_becomes_simplified():
    assert normalize("頭條新聞：臺灣經濟") == "头条新闻:台湾经济"


def test_whitespace_and_invisible_characters():
    assert normalize("  央行\u3000\t降准\n\n50个基点 ") == "央行 降准 50个基点"
    assert normalize("明\u200b星\u202e离\ufeff婚\x00") == "明星离婚"


def test_batch_equals_one_by_one_even_with_newlines_inside():
    texts = ["第一\n行", "體育", "", "  ", "ｆｕｌｌ"]
    assert normalize_many(texts) == [normalize(t) for t in texts]
    assert normalize_many([]) == []
