"""sidebar.encoding: which charset a page is in, and writing back into it."""

from __future__ import annotations

import codecs

import pytest

from sidebar import encoding

TEXT = "合肥上线全国首个城市级低空政务平台"


def page(meta: str, body: str = TEXT) -> str:
    return f"<!DOCTYPE html><html><head>{meta}<title>t</title></head><body><p>{body}</p></body></html>"


@pytest.mark.parametrize("meta, label, codec", [
    ('<meta charset="utf-8">', "utf-8", "utf-8"),
    ("<meta charset=gbk>", "gbk", "gb18030"),
    ("<meta charset='GB2312'>", "GB2312", "gb18030"),
    ('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', "gb2312", "gb18030"),
    ('<META HTTP-EQUIV="content-type" CONTENT="text/html;charset=GB18030">', "GB18030", "gb18030"),
])
def test_meta_declaration_is_read(meta, label, codec):
    raw = page(meta).encode("gb18030" if codec == "gb18030" else codec)
    found = encoding.detect(raw)
    assert (found.label, found.codec, found.source) == (label, codec, "meta")
    text, exact = encoding.decode(raw, found)
    assert TEXT in text and exact


def test_gbk_page_writes_back_in_gbk():
    raw = page("<meta charset=gbk>").encode("gbk")
    found = encoding.detect(raw)
    assert found.output_codec == "gbk"
    text, _ = encoding.decode(raw, found)
    assert encoding.encode(text, found) == raw


def test_character_outside_gbk_becomes_a_reference():
    found = encoding.detect(page("<meta charset=gbk>").encode("gbk"))
    assert encoding.encode("合肥\U0001F600", found) == "合肥".encode("gbk") + b"&#128512;"


def test_transport_charset_wins_over_meta():
    raw = page('<meta charset="utf-8">').encode("gbk")
    found = encoding.detect(raw, declared="gbk")
    assert found.source == "transport"
    assert TEXT in encoding.decode(raw, found)[0]


def test_byte_order_mark_wins_and_is_kept():
    raw = codecs.BOM_UTF8 + page("<meta charset=gbk>").encode("utf-8")
    found = encoding.detect(raw)
    assert (found.codec, found.source, found.bom) == ("utf-8", "bom", codecs.BOM_UTF8)
    text, exact = encoding.decode(raw, found)
    assert exact and not text.startswith("\ufeff")
    assert encoding.encode(text, found) == raw


def test_meta_inside_a_comment_does_not_count():
    raw = page('<!-- <meta charset="gbk"> -->').encode("utf-8")
    assert encoding.detect(raw).source == "sniffed"


def test_undeclared_utf8_is_sniffed():
    found = encoding.detect(page("").encode("utf-8"))
    assert (found.codec, found.source) == ("utf-8", "sniffed")


def test_undeclared_gbk_is_guessed_and_decodes():
    body = "安徽推动领导干部大接访活动走深走实。省委书记韩俊、省长王清宪率安徽党政代表团赴广东学习考察。" * 5
    raw = page("", body).encode("gbk")
    found = encoding.detect(raw)
    assert found.source == "guessed"
    assert body in encoding.decode(raw, found)[0]


def test_unknown_label_falls_back_to_sniffing():
    found = encoding.detect(page("<meta charset=x-no-such-charset>").encode("utf-8"))
    assert (found.codec, found.source) == ("utf-8", "sniffed")


def test_invalid_bytes_are_replaced_and_reported():
    raw = page('<meta charset="utf-8">').encode("utf-8") + b"\xff\xfe\xfa"
    text, exact = encoding.decode(raw, encoding.detect(raw))
    assert not exact and "\ufffd" in text
