"""sidebar.filter_page with the bundled model: modes, encodings, page shapes."""

from __future__ import annotations

import json

import lxml.html
import pytest

from model import load_model
from sidebar import filter_page

BAIT = [
    "张若昀甜蜜表白唐艺昕:我爱她就像她爱我",
    "因为颜值上热搜,“央视最美女记者”王冰冰还是个全能选手!",
    "baby抹胸长裙大秀窈窕身材,肤白貌美,尽显女神风采",
    "求美女刘诗诗还是演“面瘫”吧 夸张的表情你撑不住!",
]
NEWS = [
    "省互联网产促会主席车敦安率队深入企业调研",
    "国家粮食和物资储备局:部署创新思路举措做好节粮减损工作",
    "钦州港片区全力推进系统化集成式服务审批改革",
    "针对中国公民恶性案件持续多发 教育部发布留学预警",
]
NAV = ('<div id="top-nav"><span>地方频道：</span>\n  <a href="/city/1.html">合肥</a>\n'
       '  <a href="/city/2.html">亳州</a>\n</div>\n')
CRUMBS = '<div class="crumbs"><a href="/">首页</a> &gt; <a href="/cms/">内容管理</a></div>\n'
ARTICLE = ('<div class="article"><h1>韩俊王清宪率安徽省党政代表团赴广东学习考察</h1>\n'
           '<div class="content"><p>中安在线讯 2月27日至28日,省委书记韩俊、省长王清宪率安徽党政代表团赴广东省'
           '考察交流,并在广州市举行两省合作发展交流座谈会。</p>\n<p>座谈会上,黄坤明首先代表广东省委、省政府,'
           '对安徽省党政代表团到访表示欢迎,对安徽长期以来给予广东工作的支持帮助表示感谢。'
           '<a href="/x.html">张若昀甜蜜表白唐艺昕:我爱她就像她爱我</a></p></div></div>\n')
FOOTER = '<div id="footer"><p>皖ICP备2024067946号-1 &copy; 版权所有</p></div>\n'
THRESHOLD = 0.5


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module", autouse=True)
def model_separates_the_fixture_headlines(model):
    """Precondition of this file: the model tells these headlines apart."""
    labels = {r.headline: r.label for r in model.score(BAIT + NEWS, threshold=THRESHOLD)}
    assert [labels[t] for t in BAIT] == ["clickbait"] * len(BAIT)
    assert [labels[t] for t in NEWS] == ["substantive"] * len(NEWS)


def box(heading: str, texts: list[str], prefix: str = "x", li: str = "<li>") -> str:
    lis = "".join(f'\n      {li}<a href="/{prefix}/{i}.html" target="_blank">{t}</a></li>'
                  for i, t in enumerate(texts))
    return (f'  <div class="side-box"><div class="side-title"><h3>{heading}</h3></div>\n'
            f'    <ul class="list">{lis}\n    </ul>\n  </div>\n')


def page(sidebar: str, charset: str = "utf-8") -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="{charset}">\n'
            f"<title>安徽发展网</title>\n</head>\n<body>\n{NAV}{CRUMBS}<div id=\"main\">\n"
            f'{ARTICLE}<div id="sidebar">\n{sidebar}</div>\n</div>\n{FOOTER}</body>\n</html>\n')


def run(raw: bytes, mode: str, model, **kwargs):
    return filter_page(raw, model, mode=mode, threshold=THRESHOLD, **kwargs)


def texts_in(html: bytes | str, selector_xpath: str = "//div[@id='sidebar']//li") -> list[str]:
    root = lxml.html.document_fromstring(html.decode() if isinstance(html, bytes) else html)
    return [" ".join(e.text_content().split()) for e in root.xpath(selector_xpath)]


def without_lines(text: str, needles: list[str]) -> str:
    """``text`` without the list item lines that hold one of ``needles``."""
    return "".join(line for line in text.splitlines(keepends=True)
                   if not (line.lstrip().startswith("<li") and any(n in line for n in needles)))


MIXED = box("推荐阅读", NEWS, "tj") + box("热门点击", [NEWS[0], BAIT[0], NEWS[2], BAIT[1]], "rm")


def test_report_lists_blocks_links_and_scores(model):
    result = run(page(MIXED).encode(), "report", model)
    report = json.loads(result.body)
    assert result.content_type.startswith("application/json")
    assert [b["heading"] for b in report["blocks"]] == ["推荐阅读", "热门点击"]
    second = report["blocks"][1]["links"]
    assert [(l["href"], l["text"], l["label"]) for l in second] == [
        ("/rm/0.html", NEWS[0], "substantive"), ("/rm/1.html", BAIT[0], "clickbait"),
        ("/rm/2.html", NEWS[2], "substantive"), ("/rm/3.html", BAIT[1], "clickbait")]
    assert all(0.0 <= l["p_clickbait"] <= 1.0 for l in second)
    assert report["summary"] == {"blocks": 2, "links": 8, "clickbait": 2}
    assert report["threshold"] == THRESHOLD and report["model"] == model.version


def test_remove_drops_bait_lines_and_keeps_every_other_byte(model):
    source = page(MIXED)
    result = run(source.encode(), "remove", model)
    assert result.byte_exact
    assert result.body.decode() == without_lines(source, BAIT[:2])
    assert texts_in(result.body) == NEWS + [NEWS[0], NEWS[2]]


def test_article_nav_crumbs_and_footer_are_untouched(model):
    source = page(MIXED)
    for mode in ("mark", "remove"):
        body = run(source.encode(), mode, model).body.decode()
        for part in (NAV, CRUMBS, ARTICLE, FOOTER):
            assert part in body  # including the bait headline linked from the article text


def test_mark_sets_attribute_and_class_only_on_bait_items(model):
    source = page(box("热门点击", [NEWS[0], BAIT[0]], "rm", li='<li class="item">'))
    result = run(source.encode(), "mark", model)
    assert result.byte_exact
    marked = ('<li class="item sieve-clickbait" data-sieve="clickbait">'
              f'<a href="/rm/1.html" target="_blank">{BAIT[0]}</a>')
    assert result.body.decode() == source.replace(
        f'<li class="item"><a href="/rm/1.html" target="_blank">{BAIT[0]}</a>', marked)


def test_block_left_empty_goes_with_its_heading(model):
    source = page(box("推荐阅读", NEWS[:2], "tj") + box("八卦", BAIT, "bg"))
    body = run(source.encode(), "remove", model).body.decode()
    assert "八卦" not in body and not any(t in body.split('id="sidebar"')[1] for t in BAIT)
    assert body == source.replace("\n" + box("八卦", BAIT, "bg").rstrip("\n"), "")
    root = lxml.html.document_fromstring(body)
    assert [h.text for h in root.xpath("//div[@id='sidebar']//h3")] == ["推荐阅读"]
    assert len(root.xpath("//div[@class='side-box']")) == 1


def test_gbk_page_comes_back_in_gbk(model):
    source = page(MIXED, charset="gbk")
    raw = source.encode("gbk")
    result = run(raw, "remove", model)
    assert result.encoding.label == "gbk" and result.byte_exact
    assert result.body == without_lines(source, BAIT[:2]).encode("gbk")
    assert result.content_type == "text/html; charset=gbk"
    report = json.loads(run(raw, "report", model).body)
    assert [l["text"] for l in report["blocks"][1]["links"]] == [NEWS[0], BAIT[0], NEWS[2], BAIT[1]]


def test_gb2312_declared_page_with_gbk_only_characters(model):
    source = page(box("热门点击", [NEWS[0] + "镕", BAIT[0]], "rm"), charset="gb2312")
    raw = source.encode("gbk")  # 镕 is in GBK, not in GB2312
    result = run(raw, "mark", model)
    assert result.byte_exact and b'data-sieve="clickbait"' in result.body
    assert (NEWS[0] + "镕").encode("gbk") in result.body


def test_page_without_blocks_is_returned_unchanged(model):
    raw = page("").encode()
    for mode in ("mark", "remove"):
        assert run(raw, mode, model).body == raw
    assert json.loads(run(raw, "report", model).body)["blocks"] == []
    assert run(b"just some text", "remove", model).body == b"just some text"


def test_broken_markup(model):
    lis = "".join(f'<li><a href="/b/{i}">{t}\n' for i, t in enumerate([NEWS[1], BAIT[2], NEWS[3]]))
    source = (f'<html><body><div class="side-box"><h3>热门点击</h3><ul>{lis}</div>'
              f'<div id="footer">版权所有</div></body></html>')
    result = run(source.encode(), "remove", model)
    assert texts_in(result.body, "//li") == [NEWS[1], NEWS[3]]
    assert "版权所有" in result.body.decode()


def test_unclosed_items_and_stray_end_tags(model):
    source = page(f'<div class="box"><h3>热门</h3></span><ul><li><a href="/1">{NEWS[0]}</a>'
                  f'<li><a href="/2">{BAIT[3]}</a></b><li><a href="/3">{NEWS[1]}</a></ul></div>\n')
    result = run(source.encode(), "remove", model)
    assert result.byte_exact
    # the stray </b> lies inside the removed item, so it goes with it
    assert result.body.decode() == source.replace(f'<li><a href="/2">{BAIT[3]}</a></b>', "")


def test_scripts_and_styles_in_blocks_are_not_scored_and_survive(model):
    script = '<script>var s = "<li><a href=/z>" + "张若昀甜蜜表白唐艺昕:我爱她就像她爱我";</script>'
    lis = (f'<li><style>li{{color:red}}</style><a href="/1">{NEWS[0]}</a></li>{script}'
           f'<li><a href="/2">{BAIT[0]}</a><script>track(2)</script></li>')
    source = page(f'<div class="box"><h3>热门</h3><ul>{lis}</ul></div>\n')
    report = json.loads(run(source.encode(), "report", model).body)
    assert [l["text"] for b in report["blocks"] for l in b["links"]] == [NEWS[0], BAIT[0]]
    body = run(source.encode(), "remove", model).body.decode()
    assert script in body and "<style>li{color:red}</style>" in body and "track(2)" not in body


def test_relative_absolute_and_duplicate_links(model):
    texts = [NEWS[0], BAIT[0], NEWS[0], BAIT[0]]
    hrefs = ["https://news.example.org/a.html", "../b.html", "//cdn.example.org/a", "/b.html?x=1&amp;y=2"]
    lis = "".join(f'<li><a href="{h}">{t}</a></li>' for h, t in zip(hrefs, texts))
    source = page(f'<div class="box"><h3>重复</h3><ul>{lis}</ul></div>\n'
                  + box("另一栏", [BAIT[0], NEWS[1]], "dup"))
    report = json.loads(run(source.encode(), "report", model).body)
    links = [(l["href"], l["label"]) for b in report["blocks"] for l in b["links"]]
    assert links[:4] == [(hrefs[0], "substantive"), ("../b.html", "clickbait"),
                         (hrefs[2], "substantive"), ("/b.html?x=1&y=2", "clickbait")]
    body = run(source.encode(), "remove", model).body
    assert texts_in(body) == [NEWS[0], NEWS[0], NEWS[1]]


def test_hostile_link_text_is_text_in_the_report(model):
    hostile = "<script>alert(1)</script>"
    lis = (f'<li><a href="javascript:alert(2)">&lt;script&gt;alert(1)&lt;/script&gt;'
           f'娱乐圈震惊</a></li><li><a href="/2">{BAIT[0]}</a></li>')
    result = run(page(f'<div class="box"><h3>热门</h3><ul>{lis}</ul></div>').encode(), "report", model)
    assert b"<script" not in result.body and b"</" not in result.body
    assert b"\\u003cscript\\u003e" in result.body
    report = json.loads(result.body)
    assert report["blocks"][0]["links"][0]["text"] == hostile + "娱乐圈震惊"
    assert report["blocks"][0]["links"][0]["href"] == "javascript:alert(2)"


def test_unknown_mode_is_refused(model):
    with pytest.raises(ValueError, match="unknown mode"):
        filter_page(b"<p>x</p>", model, mode="delete")


def test_very_large_page(model):
    filler = "<p>" + "安徽推动领导干部大接访活动走深走实,全省各地认真贯彻落实。" * 40 + "</p>\n"
    boxes = "".join(box(f"栏目{n}", [NEWS[n % 4], BAIT[n % 4], NEWS[(n + 1) % 4]], f"b{n}")
                    for n in range(300))
    source = page(boxes).replace("</div>\n</div>\n<div id=\"footer\">",
                                 "</div>\n</div>\n" + filler * 2000 + "<div id=\"footer\">")
    raw = source.encode()
    assert len(raw) > 5_000_000
    result = run(raw, "remove", model)
    assert result.byte_exact
    assert len(result.report["blocks"]) == 300 and result.report["summary"]["clickbait"] == 300
    assert result.body == without_lines(source, BAIT).encode()


def test_markup_the_tokenizers_read_differently_is_still_filtered(model):
    # a tag-like text inside <title>: whichever way the page is written back,
    # the bait item goes, the rest stays, and no doctype is invented
    source = (f'<!-- top --><html><head><title>a<li>b</title></head><body><div class="box">'
              f'<h3>热门</h3><ul><li><a href="/1">{NEWS[0]}</a><li><a href="/2">{BAIT[0]}</a>'
              f'</ul></div><p>&quot;引号&quot;</p></body></html>')
    for mode in ("remove", "mark"):
        result = run(source.encode(), mode, model)
        body = result.body.decode()
        root = lxml.html.document_fromstring(body)
        assert root.findtext(".//title") == "a<li>b"
        assert body.startswith("<!-- top -->") and "DOCTYPE" not in body
        assert root.findtext(".//p") == '"引号"'
        texts = [" ".join(li.text_content().split()) for li in root.iter("li")]
        if mode == "remove":
            assert texts == [NEWS[0]]
        else:
            assert texts == [NEWS[0], BAIT[0]]
            assert [li.get("data-sieve") for li in root.iter("li")] == [None, "clickbait"]


def test_a_page_of_comments_without_doctype_is_filtered(model):
    """A page that opens with comments and has no doctype once sent the doctype
    search into catastrophic backtracking (the suite's timeout guards it)."""
    lis = "".join(f'<li><a href="/{i}">张若昀甜蜜表白唐艺昕:我爱她就像她爱我{i}</a></li>' for i in range(3))
    page = "<!--saved-->" + "<!-- x -->" * 2_000 + f"<html><body><ul>{lis}</ul></body></html>"
    result = filter_page(page.encode("utf-8"), model, mode="mark")
    assert result.report["summary"]["links"] == 3
    assert result.body.count(b'data-sieve="clickbait"') == result.report["summary"]["clickbait"]


def test_mixed_encodings_are_read_as_the_label_says_and_returned_whole(model):
    """A GB2312-labelled page with a stretch of UTF-8 inside (a bad template):
    the GBK text is read right, and the marked page comes back whole, the
    UTF-8 stretch byte for byte (GB18030 decodes it to other characters and
    encodes them back to the same bytes), never cut short."""
    lis = "".join(f'<li><a href="/{i}.html">{t}</a></li>' for i, t in enumerate(BAIT + NEWS))
    head = '<html><head><meta charset="gb2312"></head><body><div class="side"><h3>热门</h3>'
    raw = (head.encode("gbk") + f"<ul>{lis}</ul>".encode("gbk")
           + "<p>混入的UTF-8段落</p>".encode("utf-8") + b"</div></body></html>")
    report = run(raw, "report", model).report
    assert [link["text"] for link in report["blocks"][0]["links"]] == BAIT + NEWS
    marked = run(raw, "mark", model)
    assert marked.byte_exact and "<p>混入的UTF-8段落</p>".encode("utf-8") in marked.body
    assert marked.body.count('data-sieve="clickbait"'.encode()) == len(BAIT)
    assert marked.body.endswith(b"</div></body></html>")
