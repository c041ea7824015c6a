"""sidebar.tokens: where tags sit in the source, by HTML5's rules for tags."""

from __future__ import annotations

from sidebar.tokens import attribute_spans, attributes, tokenize


def tags(text: str) -> list[tuple[str, str, str]]:
    return [(t.kind, t.tag, text[t.start:t.end]) for t in tokenize(text)]


def test_comments_doctype_and_raw_text_hold_no_tags():
    text = ('<!DOCTYPE html><!-- <li> --><title>a<li>b</title><textarea><li></textarea>'
            '<script>var s = "<li></ul>";</script><style>li:after{content:"<li>"}</style><li>')
    assert [(k, t) for k, t, _ in tags(text)] == [
        ("start", "title"), ("end", "title"), ("start", "textarea"), ("end", "textarea"),
        ("start", "script"), ("end", "script"), ("start", "style"), ("end", "style"),
        ("start", "li")]


def test_spans_cover_the_whole_tag():
    text = '<UL class="a>b" data-x=1\n  hidden><li id=\'q\'/></Ul >'
    assert tags(text) == [("start", "ul", '<UL class="a>b" data-x=1\n  hidden>'),
                          ("start", "li", "<li id='q'/>"), ("end", "ul", "</Ul >")]


def test_unclosed_script_runs_to_the_end():
    assert [t for _, t, _ in tags("<p><script>document.write('<li>')")] == ["p", "script"]


def test_less_than_signs_in_text_are_not_tags():
    assert tags("a < b <3 </ > <li>x") == [("start", "li", "<li>")]


def test_attributes_are_unescaped_and_first_duplicate_wins():
    tag = '<li class="a &amp; b" id=x data-q=\'1\' hidden CLASS=z>'
    assert attributes(tag) == {"class": "a & b", "id": "x", "data-q": "1", "hidden": ""}
    start, end, value = attribute_spans(tag)["class"]
    assert tag[start:end] == 'class="a &amp; b"' and value == "a & b"
