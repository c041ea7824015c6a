"""The lean path of ``POST /v1/score`` (service.views.scoring.LeanScoring) answers
as the Flask view does, byte for byte, and hands Flask what it should not answer.

Each request is sent twice through the same app: once to the app (the lean
path first) and once to the Flask callable it wraps (the reference). Bodies
come from the hostile-input strategies of tests/test_reliability_hostile_json.py.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.test import Client

from service.app import create_app
from service.state import EXTENSION
from test_reliability_hostile_json import HYPOTHESIS, SCORE_BODIES, encode, raw_bodies

VALID = [{"headline": "国务院召开常务会议 部署经济工作"},
         {"headlines": ["震惊！这位女星竟然", "ＧＤＰ增长５％", "體育新聞", "a\u200bb  c"]},
         {"headlines": ["明星八卦"], "explain": True, "threshold": 0.25},
         {"headline": "央行降准", "threshold": None, "explain": False}]


@pytest.fixture(scope="module")
def app(tmp_path_factory, service_helpers):
    return create_app(service_helpers.settings(tmp_path_factory.mktemp("home"), max_batch=8))


def answers(app, data: bytes, headers: dict | None = None) -> tuple:
    """(lean path's answer, Flask's answer), each (status, headers, body)."""
    found = []
    for target in (app, app.wsgi_app.flask_app):
        response = Client(target).post("/v1/score", data=data, headers=headers or {},
                                       content_type="application/json")
        found.append((response.status, sorted(response.headers.items()), response.data))
    return found[0], found[1]


def refusing(environ, start_response):
    raise AssertionError(f"handed to Flask: {environ['PATH_INFO']}")


@HYPOTHESIS
@given(body=SCORE_BODIES, ascii_only=st.booleans())
def test_same_answer_for_any_json_body(app, body, ascii_only):
    lean, flask = answers(app, encode(body, ascii_only))
    assert lean == flask


@HYPOTHESIS
@given(data=raw_bodies())
def test_same_answer_for_any_raw_body(app, data):
    lean, flask = answers(app, data)
    assert lean == flask


@pytest.mark.parametrize("body", VALID)
def test_valid_requests_are_answered_without_flask(app, body, monkeypatch):
    lean, flask = answers(app, json.dumps(body, ensure_ascii=False).encode())
    assert lean == flask and lean[0] == "200 OK"
    monkeypatch.setattr(app.wsgi_app, "flask_app", refusing)
    response = app.test_client().post("/v1/score", json=body)
    assert response.status_code == 200
    assert response.get_json()["results"][0]["model"] == response.get_json()["model"]


def test_other_routes_and_methods_go_to_flask(app, monkeypatch):
    assert app.test_client().get("/v1/score").status_code == 405
    assert app.test_client().post("/v1/score/", json=VALID[0]).status_code == 404
    monkeypatch.setattr(app.wsgi_app, "flask_app", refusing)
    with pytest.raises(AssertionError, match="handed to Flask: /healthz"):
        app.test_client().get("/healthz")


def test_the_lean_path_counts_requests_and_headlines(tmp_path, service_helpers):
    app = create_app(service_helpers.settings(tmp_path, store_scored=True))
    client = app.test_client()
    for body in VALID:
        assert client.post("/v1/score", json=body).status_code == 200
    assert client.post("/v1/score", json={"headline": ""}).status_code == 422
    metrics = client.get("/metrics").get_data(as_text=True)
    assert ('headline_sieve_http_requests_total{endpoint="/v1/score",method="POST",'
            'status="200"} 4.0') in metrics
    assert ('headline_sieve_http_requests_total{endpoint="/v1/score",method="POST",'
            'status="422"} 1.0') in metrics
    assert ('headline_sieve_http_request_duration_seconds_count{endpoint="/v1/score",'
            'method="POST"} 5.0') in metrics
    assert "headline_sieve_headlines_scored_total 7.0" in metrics
    pools = app.extensions[EXTENSION].pools
    assert pools.count("scored") == 7 and "體育新聞" in pools.headlines("scored")


@pytest.mark.parametrize("overrides, headers", [
    ({"score_requires_token": True}, {}),
    ({"cors_origins": ("https://portal.example",)}, {"Origin": "https://portal.example"})])
def test_tokens_and_cors_are_left_to_flask(tmp_path, service_helpers, overrides, headers):
    app = create_app(service_helpers.settings(tmp_path, **overrides))
    lean, flask = answers(app, json.dumps(VALID[0]).encode(), headers)
    assert lean == flask
    assert lean[0] == ("401 UNAUTHORIZED" if "score_requires_token" in overrides else "200 OK")
    if headers:
        assert ("Access-Control-Allow-Origin", "https://portal.example") in lean[1]
