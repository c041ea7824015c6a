"""POST /v1/filter, /static/sieve.js and CORS for it, on the real Flask app."""

from __future__ import annotations

import json

import lxml.html
import pytest

from service.app import create_app
from service.config import load_settings

NEWS = "省互联网产促会主席车敦安率队深入企业调研"
BAIT = "张若昀甜蜜表白唐艺昕:我爱她就像她爱我"
PORTAL = "http://portal.example"


def page(charset: str = "utf-8", texts=(NEWS, BAIT, NEWS + "二")) -> str:
    lis = "".join(f'\n<li><a href="/n/{i}.html">{t}</a></li>' for i, t in enumerate(texts))
    return (f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>门户</title></head>'
            f'<body><nav><a href="/">首页</a> <a href="/gn">国内</a></nav>'
            f'<div class="side-box"><h3>热门点击</h3><ul>{lis}\n</ul></div>'
            f'<div id="footer">版权所有</div></body></html>')


def make_app(home, **overrides):
    """The real app on default settings (no HEADLINE_SIEVE_* variable leaks in)."""
    return create_app(load_settings({"home": home, "warm_up": False, **overrides}, environ={}))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("home"), cors_origins=(PORTAL,))


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def texts(html: bytes, charset: str = "utf-8") -> list[str]:
    root = lxml.html.document_fromstring(html.decode(charset))
    return [li.text_content() for li in root.iter("li")]


def test_html_body_remove(client):
    response = client.post("/v1/filter?mode=remove&threshold=0.5", data=page().encode(),
                           content_type="text/html")
    assert response.status_code == 200
    assert response.mimetype == "text/html" and response.mimetype_params["charset"] == "utf-8"
    assert texts(response.data) == [NEWS, NEWS + "二"]
    assert response.data == page().replace(f'\n<li><a href="/n/1.html">{BAIT}</a></li>', "").encode()
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["X-Sieve-Clickbait"] == "1"


def test_gbk_page_in_and_out(client):
    raw = page("gbk").encode("gbk")
    response = client.post("/v1/filter?mode=mark&threshold=0.5", data=raw,
                           content_type="text/html")
    assert response.status_code == 200 and response.mimetype_params["charset"] == "gbk"
    expected = raw.replace(f'<li><a href="/n/1.html">{BAIT}'.encode("gbk"),
                           f'<li data-sieve="clickbait" class="sieve-clickbait">'
                           f'<a href="/n/1.html">{BAIT}'.encode("gbk"))
    assert response.data == expected


def test_transport_charset_wins(client):
    raw = page("utf-8").encode("gbk")  # the meta lies; the Content-Type does not
    response = client.post("/v1/filter", data=raw, content_type="text/html; charset=GBK")
    report = response.get_json()
    assert report["encoding"] == "GBK"
    assert [link["text"] for link in report["blocks"][0]["links"]] == [NEWS, BAIT, NEWS + "二"]


def test_json_body_report_and_threshold(client):
    response = client.post("/v1/filter", json={"html": page(), "threshold": 0.5})
    assert response.status_code == 200 and response.mimetype == "application/json"
    report = response.get_json()
    assert report["threshold"] == 0.5 and report["mode"] == "report"
    assert [(b["heading"], [l["label"] for l in b["links"]]) for b in report["blocks"]] == [
        ("热门点击", ["substantive", "clickbait", "substantive"])]


def test_hostile_text_stays_text(client):
    hostile = page(texts=("&lt;script&gt;alert(1)&lt;/script&gt;明星八卦", BAIT))
    response = client.post("/v1/filter", data=hostile.encode(), content_type="text/html")
    assert response.status_code == 200 and b"<script" not in response.data
    assert b"\\u003cscript\\u003e" in response.data
    first = json.loads(response.data)["blocks"][0]["links"][0]
    assert first["text"] == "<script>alert(1)</script>明星八卦"


def test_five_megabyte_page_is_refused_before_it_is_read(client, app):
    limit = app.extensions["headline_sieve"].settings.max_body_bytes
    big = page().replace("</body>", "<p>" + "正文" * (5 * 1024 * 1024 // 6) + "</p></body>").encode()
    assert len(big) > 5 * 1024 * 1024 > limit
    response = client.post("/v1/filter?mode=remove", data=big, content_type="text/html")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "body_too_large"


def test_page_just_under_the_limit_is_answered(client, app):
    limit = app.extensions["headline_sieve"].settings.max_body_bytes
    filler = "<p>" + "正文" * 1000 + "</p>\n"
    body = page().replace("</body>", filler * ((limit - 10_000) // len(filler.encode())) + "</body>")
    assert limit - 20_000 < len(body.encode()) <= limit
    response = client.post("/v1/filter?mode=remove&threshold=0.5", data=body.encode(),
                           content_type="text/html")
    assert response.status_code == 200 and texts(response.data) == [NEWS, NEWS + "二"]


@pytest.mark.parametrize("url, kwargs, status, code", [
    ("/v1/filter?mode=delete", {"data": b"<p>x</p>", "content_type": "text/html"}, 422,
     "invalid_value"),
    ("/v1/filter?threshold=2", {"data": b"<p>x</p>", "content_type": "text/html"}, 422,
     "invalid_value"),
    ("/v1/filter?threshold=abc", {"data": b"<p>x</p>", "content_type": "text/html"}, 400,
     "invalid_type"),
    ("/v1/filter", {"data": b"<p>x</p>", "content_type": "text/plain"}, 415,
     "unsupported_media_type"),
    ("/v1/filter", {"data": b"  ", "content_type": "text/html"}, 422, "invalid_value"),
    ("/v1/filter", {"json": {"html": 5}}, 400, "invalid_type"),
    ("/v1/filter", {"data": b"{", "content_type": "application/json"}, 400, "malformed_json"),
])
def test_bad_requests_get_json_errors(client, url, kwargs, status, code):
    response = client.post(url, **kwargs)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_the_service_never_fetches_a_url(client):
    response = client.post("/v1/filter", json={"url": "http://127.0.0.1:9/secret"})
    assert response.status_code == 422
    assert "never fetches" in response.get_json()["error"]["message"]


def test_token_required_when_scoring_needs_one(tmp_path):
    locked = make_app(tmp_path, score_requires_token=True).test_client()
    response = locked.post("/v1/filter", data=page().encode(), content_type="text/html")
    assert response.status_code == 401


def test_openapi_describes_the_endpoint(client):
    document = client.get("/openapi.json").get_json()
    operation = document["paths"]["/v1/filter"]["post"]
    assert {p["name"] for p in operation["parameters"]} == {"mode", "threshold"}
    assert set(operation["requestBody"]["content"]) == {"text/html", "application/json"}
    assert {"200", "413", "415", "422"} <= set(operation["responses"])


def test_sieve_script_is_served(client):
    response = client.get("/static/sieve.js")
    assert response.status_code == 200 and "javascript" in response.mimetype
    assert b"AbortController" in response.data and b"MutationObserver" in response.data
    assert b"/v1/filter" in response.data


def test_cors_preflight_and_answer_for_a_configured_origin(client):
    preflight = client.options("/v1/score", headers={
        "Origin": PORTAL, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == PORTAL
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    answer = client.post("/v1/score", json={"headlines": [NEWS]}, headers={"Origin": PORTAL})
    assert answer.headers["Access-Control-Allow-Origin"] == PORTAL


def test_no_cors_for_other_origins(client):
    answer = client.post("/v1/score", json={"headlines": [NEWS]},
                         headers={"Origin": "http://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in answer.headers
