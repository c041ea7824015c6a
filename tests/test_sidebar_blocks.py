"""sidebar.blocks: which groups of links are sidebar blocks, with which heading."""

from __future__ import annotations

from sidebar.blocks import find_blocks
from sidebar.document import parse

HEADLINES = [
    "省互联网产促会主席车敦安率队深入企业调研",
    "国家粮食和物资储备局部署节粮减损工作",
    "钦州港片区全力推进系统化集成式服务审批改革",
    "针对中国公民恶性案件持续多发 教育部发布留学预警",
]
NAV = '<div id="top-nav"><a href="/a">合肥</a> <a href="/b">亳州</a> <a href="/c">淮北</a></div>'
LONG_NAV = "<nav>" + "".join(f'<a href="/n{i}">{h}</a>' for i, h in enumerate(HEADLINES)) + "</nav>"
CRUMBS = ('<div class="crumbs"><a href="/">首页</a> &gt; <a href="/cms/">内容管理</a> &gt; '
          '<a href="/cms/zj/">政经频道新闻列表页面</a></div>')
FOOTER = ('<div id="footer"><a href="/about">关于我们安徽发展网的介绍</a> | '
          '<a href="/contact">联系我们安徽发展网编辑部</a></div>')
ARTICLE = ('<div class="content">'
           + "".join(f"<p>{'正文内容' * 15}<a href='/in{i}'>{h}</a>{'正文' * 10}</p>"
                     for i, h in enumerate(HEADLINES)) + "</div>")


def items(heading: str, texts: list[str], prefix: str = "x") -> str:
    lis = "".join(f'<li><a href="/{prefix}/{i}.html">{t}</a></li>' for i, t in enumerate(texts))
    return f'<div class="side-box"><div class="side-title"><h3>{heading}</h3></div><ul>{lis}</ul></div>'


def blocks_of(body: str):
    root = parse(f"<!DOCTYPE html><html><head><meta charset=utf-8></head><body>{body}</body></html>")
    return find_blocks(root)


def summary(body: str) -> list[tuple[str | None, list[str]]]:
    return [(b.heading, [i.link.text for i in b.items]) for b in blocks_of(body)]


def test_portal_layout_finds_only_the_sidebar_blocks():
    body = (NAV + LONG_NAV + CRUMBS + ARTICLE + '<div id="sidebar">'
            + items("推荐阅读", HEADLINES, "tj") + items("热门点击", HEADLINES[::-1], "rm")
            + "</div>" + FOOTER)
    assert summary(body) == [("推荐阅读", HEADLINES), ("热门点击", HEADLINES[::-1])]


def test_page_without_blocks():
    assert blocks_of(NAV + CRUMBS + ARTICLE + FOOTER) == []
    assert blocks_of("<p>只有一段文字,没有任何链接。</p>") == []


def test_empty_block_removal_takes_wrapper_with_heading():
    (block,) = blocks_of(items("推荐阅读", HEADLINES))
    assert [e.get("class") for e in block.removal] == ["side-box"]


def test_heading_and_list_without_wrapper_are_removed_separately():
    lis = "".join(f'<li><a href="/{i}">{t}</a></li>' for i, t in enumerate(HEADLINES))
    (block,) = blocks_of(f'<aside><h2>相关新闻</h2><ul>{lis}</ul><p>广告位招租联系电话</p></aside>')
    assert block.heading == "相关新闻"
    assert [e.tag for e in block.removal] == ["h2", "ul"]


def test_block_without_heading():
    lis = "".join(f'<li><a href="/{i}">{t}</a></li>' for i, t in enumerate(HEADLINES))
    (block,) = blocks_of(f"<div><ul>{lis}</ul></div>")
    assert block.heading is None and [e.tag for e in block.removal] == ["ul"]


def test_heading_link_and_more_link_are_not_items():
    lis = "".join(f'<li><a href="/{i}">{t}</a></li>' for i, t in enumerate(HEADLINES))
    body = (f'<div class="box"><div class="hd"><h3><a href="/list">最新更新</a></h3>'
            f'<a class="more" href="/list">更多</a></div><ul>{lis}</ul></div>')
    assert summary(body) == [("最新更新", HEADLINES)]


def test_marked_block_counts_even_with_menu_like_links():
    body = ('<nav data-sieve-block><a href="/1">短讯一</a><a href="/2">短讯二</a></nav>'
            '<ul data-sieve-block><li><a href="/3">独条</a></li></ul>')
    found = blocks_of(body)
    assert [[i.link.text for i in b.items] for b in found] == [["短讯一", "短讯二"], ["独条"]]
    assert all(b.marked for b in found)


def test_marked_wrapper_is_removed_whole():
    lis = "".join(f'<li><a href="/{i}">{t}</a></li>' for i, t in enumerate(HEADLINES))
    (block,) = blocks_of(f'<section data-sieve-block><ul>{lis}</ul></section>')
    assert [e.tag for e in block.removal] == ["section"]


def test_links_in_running_text_are_not_a_block():
    links = "".join(f'文中提到<a href="/{i}">{t}</a>等多项内容,' for i, t in enumerate(HEADLINES))
    assert blocks_of(f"<div class='intro'>{links}</div>") == []


def test_aside_inside_article_is_a_block():
    lis = "".join(f'<li><a href="/{i}">{t}</a></li>' for i, t in enumerate(HEADLINES))
    body = f"<article>{ARTICLE}<aside><h4>相关阅读</h4><ul>{lis}</ul></aside></article>"
    assert summary(body) == [("相关阅读", HEADLINES)]


def test_list_inside_article_body_is_left_alone():
    lis = "".join(f'<li><a href="/{i}">{t}</a></li>' for i, t in enumerate(HEADLINES))
    assert blocks_of(f"<article><h1>标题</h1><ul>{lis}</ul></article>") == []
    assert blocks_of(ARTICLE.replace("</div>", f"<ul>{lis}</ul></div>")) == []


def test_script_and_style_inside_block_are_not_text():
    lis = "".join(f'<li><a href="/{i}"><style>.x{{color:red}}</style>{t}</a>'
                  f'<script>document.write("<a href=/evil>脚本里的链接文字很长很长</a>")</script></li>'
                  for i, t in enumerate(HEADLINES))
    assert summary(f"<div class='box'><h3>热门</h3><ul><script>var a = '<li>';</script>{lis}</ul></div>") \
        == [("热门", HEADLINES)]


def test_item_with_several_links_uses_the_headline():
    lis = "".join(f'<li><a href="/c{i}">[时政]</a> <a href="/{i}">{t}</a> <span>03-01</span></li>'
                  for i, t in enumerate(HEADLINES))
    assert summary(f"<div><h3>要闻</h3><ul>{lis}</ul></div>") == [("要闻", HEADLINES)]


def test_table_rows_and_paragraph_items():
    rows = "".join(f'<tr><td>03-0{i}</td><td><a href="/{i}">{t}</a></td></tr>'
                   for i, t in enumerate(HEADLINES))
    paras = "".join(f'<p><a href="/p{i}">{t}</a></p>' for i, t in enumerate(HEADLINES))
    body = (f'<div class="box"><h3>列表</h3><table>{rows}</table></div>'
            f'<div class="box"><h3>段落</h3><div class="list">{paras}</div></div>')
    assert summary(body) == [("列表", HEADLINES), ("段落", HEADLINES)]


def test_broken_markup_still_yields_the_block():
    lis = "".join(f'<li><a href="/{i}">{t}' for i, t in enumerate(HEADLINES))  # nothing closed
    body = f'<div class="side-box"><h3>推荐阅读</h3><ul>{lis}</div><div id="footer">版权所有</div>'
    assert summary(body) == [("推荐阅读", HEADLINES)]


def test_duplicate_texts_and_hrefs_are_kept_per_item():
    lis = ('<li><a href="https://example.org/a.html">{0}</a></li><li><a href="a.html">{0}</a></li>'
           '<li><a href="//cdn.example.org/b">{1}</a></li>').format(HEADLINES[0], HEADLINES[1])
    (block,) = blocks_of(f"<div><h3>重复</h3><ul>{lis}</ul></div>")
    assert [(i.link.href, i.link.text) for i in block.items] == [
        ("https://example.org/a.html", HEADLINES[0]), ("a.html", HEADLINES[0]),
        ("//cdn.example.org/b", HEADLINES[1])]
