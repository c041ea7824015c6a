"""The HTTP contract through the real WSGI app (Flask test client): every endpoint,
every error status of the issue, the JSON error shape."""

from __future__ import annotations

import io
import json

import pytest

from helpers import auth
from service.app import create_app
from service.state import EXTENSION

MIXED = ["国务院召开常务会议 部署稳就业", "震惊！这位女星竟然说出了真相", "國務院召開常務會議",
         "🔥🔥 网友：太美了 😍", "Apple 发布 iPhone 新品", "控制\u0000字符\u200b和\t空白"]


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory, service_helpers):
    """One app for the tests that do not change state (saves loading the model each time)."""
    return create_app(service_helpers.settings(tmp_path_factory.mktemp("home")))


@pytest.fixture
def client(shared_app):
    return shared_app.test_client()


def error_of(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    assert "Traceback" not in body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


# -- health --------------------------------------------------------------------

def test_healthz_and_readyz(service_client):
    health = service_client.get("/healthz")
    assert health.status_code == 200 and health.json["status"] == "ok"
    assert health.json["model"].startswith("default-")
    error_of(service_client.get("/readyz"), 503, "not_ready")  # warm_up off: nothing loaded
    assert service_client.post("/v1/score", json={"headline": "x"}).status_code == 200
    ready = service_client.get("/readyz")
    assert ready.status_code == 200 and ready.json["model"] == health.json["model"]


# -- scoring -------------------------------------------------------------------

def test_score_batch_in_input_order_with_one_model(client, bundled_model):
    response = client.post("/v1/score", json={"headlines": MIXED})
    assert response.status_code == 200
    body = response.json
    assert body["model"] == bundled_model.version
    assert body["threshold"] == pytest.approx(bundled_model.threshold)
    assert [r["headline"] for r in body["results"]] == MIXED
    expected = bundled_model.score(MIXED)
    for got, want in zip(body["results"], expected):
        assert got["label"] == want.label and got["p_clickbait"] == want.p_clickbait
        assert got["model"] == body["model"] and "explanation" not in got
    assert response.content_type.startswith("application/json")
    assert "国务院" in response.get_data(as_text=True)  # UTF-8, not \\u escapes


def test_answers_are_readable_utf8_text(client):
    headline = "央行宣布下调存款准备金率"
    response = client.post("/v1/score", json={"headline": headline, "explain": True})
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert headline.encode("utf-8") in response.data and b"\\u" not in response.data
    error = client.post("/v1/score", json={"headline": 7})
    assert error.headers["Content-Type"] == "application/json; charset=utf-8"


def test_score_single_headline_explain_and_threshold(client):
    body = client.post("/v1/score", json={"headline": "震惊！这位女星竟然", "explain": True,
                                          "threshold": 0.0}).json
    assert body["threshold"] == 0.0
    [result] = body["results"]
    assert result["label"] == "clickbait"
    assert result["explanation"] and {"feature", "weight"} == set(result["explanation"][0])


def test_largest_batch_is_accepted_and_one_more_is_413(client, shared_app):
    limit = shared_app.extensions[EXTENSION].settings.max_batch
    assert limit >= 1000
    ok = client.post("/v1/score", json={"headlines": ["股市今日收涨"] * limit})
    assert ok.status_code == 200 and len(ok.json["results"]) == limit
    error = error_of(client.post("/v1/score", json={"headlines": ["a"] * (limit + 1)}), 413,
                     "batch_too_large")
    assert str(limit) in error["message"]


@pytest.mark.parametrize("body, field", [
    ({"headlines": "一条标题"}, "headlines"),
    ({"headlines": ["ok", 3]}, "headlines[1]"),
    ({"headlines": [None]}, "headlines[0]"),
    ({"headline": ["a"]}, "headline"),
    ({"headline": "a", "explain": "yes"}, "explain"),
    ({"headline": "a", "threshold": "0.5"}, "threshold"),
    ({"headline": "a", "threshold": True}, "threshold"),
    ({"headline": "a", "headlines": ["b"]}, "headlines"),
    ({}, "headlines"),
])
def test_wrong_types_are_400_naming_the_field(client, body, field):
    error = error_of(client.post("/v1/score", json=body), 400, "invalid_type")
    assert error["field"] == field and field in error["message"]


@pytest.mark.parametrize("body, field", [
    ({"headlines": []}, "headlines"),
    ({"headline": ""}, "headline"),
    ({"headlines": ["ok", "   \u3000\n"]}, "headlines[1]"),
    ({"headline": "\u200b\u0000\t"}, "headline"),
    ({"headlines": ["ok", "长" * 513]}, "headlines[1]"),
    ({"headline": "a", "threshold": 1.5}, "threshold"),
])
def test_unusable_values_are_422(client, body, field):
    error = error_of(client.post("/v1/score", json=body), 422, "invalid_value")
    assert error["field"] == field


def test_headline_limit_is_inclusive(client):
    assert client.post("/v1/score", json={"headline": "长" * 512}).status_code == 200


@pytest.mark.parametrize("data, code", [
    (b'{"headlines": ["a"', "malformed_json"),
    (b"", "malformed_json"),
    (b"headlines=a", "malformed_json"),
    (b'{"headline": "\xe4\xb8"}', "invalid_utf8"),
    (b"\xff\xfe{}", "invalid_utf8"),
    (b'["a"]', "invalid_type"),
    (b"[" * 100000, "malformed_json"),
])
def test_bodies_that_are_not_a_json_object_are_400(client, data, code):
    error_of(client.post("/v1/score", data=data, content_type="application/json"), 400, code)


def test_invalid_unicode_escapes_are_422_not_500(client):
    error = error_of(client.post("/v1/score", data=b'{"headline": "\\ud83d abc"}',
                                 content_type="application/json"), 422)
    assert "surrogate" in error["message"]


def test_any_json_content_type_and_utf8_bom_are_accepted(client):
    data = "\ufeff{\"headline\": \"国务院召开常务会议\"}".encode("utf-8")
    assert client.post("/v1/score", data=data, content_type="text/plain").status_code == 200


def test_body_over_the_limit_is_413_before_it_is_read(client, shared_app):
    limit = shared_app.extensions[EXTENSION].settings.max_body_bytes

    class Unreadable(io.BytesIO):
        def read(self, *args):  # the body must not be read at all
            raise AssertionError("the body was read")

        readinto = readline = read

    response = client.post("/v1/score", input_stream=Unreadable(),
                           content_type="application/json",
                           environ_overrides={"CONTENT_LENGTH": str(limit + 1)})
    error = error_of(response, 413, "body_too_large")
    assert str(limit) in error["message"]
    # Any path and content type (the sidebar's HTML bodies too).
    error_of(client.post("/v1/anything", input_stream=Unreadable(),
                         content_type="text/html; charset=utf-8",
                         environ_overrides={"CONTENT_LENGTH": str(limit + 1)}), 413)


@pytest.mark.parametrize("path, content_type, start, end", [
    ("/v1/score", "application/json", b'{"headline": "', b'"}'),
    ("/v1/filter", "text/html; charset=utf-8", b"<ul><li><a href='/a'>", b"</a></li></ul>")])
def test_chunked_body_over_the_limit_is_413_while_streaming(client, shared_app, path,
                                                            content_type, start, end):
    limit = shared_app.extensions[EXTENSION].settings.max_body_bytes
    body = io.BytesIO(start + "长".encode() * (limit // 3 + 10) + end)
    response = client.post(path, input_stream=body,
                           headers={"Transfer-Encoding": "chunked", "Content-Type": content_type},
                           environ_overrides={"wsgi.input_terminated": True})
    error_of(response, 413)
    assert body.tell() <= limit + 64 * 1024  # stopped reading near the limit


def test_405_with_allow_header_and_404_for_unknown_paths(client):
    error = error_of(client.get("/v1/score"), 405, "method_not_allowed")
    assert "POST" in error["message"]
    assert "POST" in client.get("/v1/score").headers["Allow"]
    error_of(client.delete("/v1/models"), 405)
    error_of(client.get("/v2/score"), 404, "not_found")
    error_of(client.get("/v1/jobs/does-not-exist"), 404, "not_found")


def test_scoring_behind_a_token_with_one_setting(service_home, service_helpers):
    app = create_app(service_helpers.settings(service_home, score_requires_token=True))
    client = app.test_client()
    token = app.extensions[EXTENSION].tokens.create("portal")
    error_of(client.post("/v1/score", json={"headline": "a"}), 401, "unauthorized")
    assert client.post("/v1/score", json={"headline": "a"}, headers=auth(token)).status_code == 200


# -- labels --------------------------------------------------------------------

LABELS = {"labels": [{"headline": "国务院召开常务会议", "label": "clickbait", "source": "desk"},
                     {"headline": "某女星离婚内幕曝光", "label": "clickbait"}]}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer hs_wrong"},
                                     {"Authorization": "Basic dXNlcjpwdw=="},
                                     {"Authorization": "Bearer"}])
def test_write_endpoints_need_a_valid_token_and_say_nothing_more(service_client, service_token,
                                                                 headers):
    answers = [
        service_client.post("/v1/labels", json=LABELS, headers=headers),
        service_client.post("/v1/retrain", json={}, headers=headers),
        service_client.post("/v1/models/anything/activate", headers=headers),
    ]
    messages = set()
    for response in answers:
        error = error_of(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        messages.add(error["message"])
    assert len(messages) == 1
    assert service_client.get("/v1/labels", headers=auth(service_token)).json["labels"] == []


def test_labels_are_stored_with_history_and_the_newest_wins(service_client, service_token):
    first = service_client.post("/v1/labels", json=LABELS, headers=auth(service_token))
    assert first.status_code == 201 and first.json["stored"] == 2
    relabel = {"labels": [{"headline": "國務院召開常務會議", "label": "substantive"}]}
    assert service_client.post("/v1/labels", json=relabel,
                               headers=auth(service_token)).status_code == 201

    page = service_client.get("/v1/labels", headers=auth(service_token)).json
    assert [row["label"] for row in page["labels"]] == ["clickbait", "clickbait", "substantive"]
    assert page["labels"][0]["source"] == "desk" and page["labels"][0]["token"] == "editor"
    assert page["labels"][2]["normalized"] == "国务院召开常务会议"
    assert page["labels"][0]["created"] and page["next"] is None

    current = service_client.get("/v1/labels/export?current=true", headers=auth(service_token))
    assert current.mimetype == "application/x-ndjson"
    rows = [json.loads(line) for line in current.get_data(as_text=True).splitlines()]
    assert {(r["normalized"], r["label"]) for r in rows} == {
        ("国务院召开常务会议", "substantive"), ("某女星离婚内幕曝光", "clickbait")}
    everything = service_client.get("/v1/labels/export", headers=auth(service_token))
    assert len(everything.get_data(as_text=True).splitlines()) == 3


def test_labels_pages(service_client, service_token):
    many = {"labels": [{"headline": f"标题 {i}", "label": "substantive"} for i in range(5)]}
    ids = service_client.post("/v1/labels", json=many, headers=auth(service_token)).json["ids"]
    page = service_client.get("/v1/labels?limit=2", headers=auth(service_token)).json
    assert [r["id"] for r in page["labels"]] == ids[:2] and page["next"] == ids[1]
    page = service_client.get(f"/v1/labels?since={page['next']}&limit=2",
                              headers=auth(service_token)).json
    assert [r["id"] for r in page["labels"]] == ids[2:4]
    error_of(service_client.get("/v1/labels?limit=abc", headers=auth(service_token)), 400)
    error_of(service_client.get("/v1/labels?limit=0", headers=auth(service_token)), 422)
    error_of(service_client.get("/v1/labels/export?current=maybe",
                                headers=auth(service_token)), 400)
    # present but empty is not a value (the OpenAPI document's types say so)
    error_of(service_client.get("/v1/labels?limit=&since=", headers=auth(service_token)),
             400, "invalid_type")
    error_of(service_client.get("/v1/labels/export?current=", headers=auth(service_token)),
             400, "invalid_type")


def test_label_reads_need_a_token_unless_opened(service_client, service_home, service_helpers):
    error_of(service_client.get("/v1/labels"), 401)
    error_of(service_client.get("/v1/labels/export"), 401)
    app = create_app(service_helpers.settings(service_home, labels_read_requires_token=False))
    assert app.test_client().get("/v1/labels").status_code == 200


@pytest.mark.parametrize("body, status, field", [
    ({"labels": {"headline": "a", "label": "clickbait"}}, 400, "labels"),
    ({"label": "clickbait"}, 400, "labels"),
    ({"labels": ["a"]}, 400, "labels[0]"),
    ({"labels": [{"headline": 5, "label": "clickbait"}]}, 400, "labels[0].headline"),
    ({"labels": [{"headline": "a", "label": 1}]}, 400, "labels[0].label"),
    ({"labels": [{"headline": "a", "label": "clickbait", "source": 3}]}, 400, "labels[0].source"),
    ({"labels": []}, 422, "labels"),
    ({"labels": [{"headline": "a", "label": "spam"}]}, 422, "labels[0].label"),
    ({"labels": [{"headline": " ", "label": "clickbait"}]}, 422, "labels[0].headline"),
    ({"labels": [{"headline": "a" * 513, "label": "clickbait"}]}, 422, "labels[0].headline"),
    ({"labels": [{"headline": "a", "label": "clickbait", "source": "s" * 201}]},
     422, "labels[0].source"),
    ({"labels": [{"headline": "a", "label": "clickbait"}] * 1001}, 413, "labels"),
])
def test_bad_labels_are_refused_and_nothing_is_stored(service_client, service_token, body,
                                                       status, field):
    error = error_of(service_client.post("/v1/labels", json=body, headers=auth(service_token)),
                     status)
    assert error["field"] == field
    assert service_client.get("/v1/labels", headers=auth(service_token)).json["labels"] == []


def test_a_bad_label_late_in_a_batch_stores_none_of_it(service_client, service_token):
    body = {"labels": [{"headline": "好标题", "label": "clickbait"},
                       {"headline": "坏标签", "label": "maybe"}]}
    error_of(service_client.post("/v1/labels", json=body, headers=auth(service_token)), 422)
    assert service_client.get("/v1/labels", headers=auth(service_token)).json["labels"] == []


# -- retraining jobs -----------------------------------------------------------

def test_one_job_at_a_time_409_names_the_running_job(service_app, service_client,
                                                     service_token):
    import os

    jobs = service_app.extensions[EXTENSION].jobs
    running = jobs.create("labels", "someone")
    jobs.start(running, os.getpid())  # a live process owns it
    error = error_of(service_client.post("/v1/retrain", headers=auth(service_token)), 409,
                     "job_running")
    assert error["job"] == running and running in error["message"]
    job = service_client.get(f"/v1/jobs/{running}").json
    assert job["state"] == "running" and job["job"] == running
    jobs.fail(running, "test over")


def test_retrain_rejects_a_bad_mode(service_client, service_token):
    error_of(service_client.post("/v1/retrain", json={"mode": "everything"},
                                 headers=auth(service_token)), 422)
    error_of(service_client.post("/v1/retrain", json={"mode": 1},
                                 headers=auth(service_token)), 400)


# -- models --------------------------------------------------------------------

def test_models_list_and_activation_errors(service_client, service_token, bundled_model):
    listing = service_client.get("/v1/models").json
    assert listing["active"] == bundled_model.version
    [entry] = listing["models"]
    assert entry["status"] == "active" and entry["active"] is True
    assert entry["validation"]["roc_auc"] > 0.9 and entry["sha256"]
    error_of(service_client.post("/v1/models/nope/activate", headers=auth(service_token)), 404)
    models = service_client.application.extensions[EXTENSION].models
    serving = models.get()
    again = service_client.post(f"/v1/models/{bundled_model.version}/activate",
                                headers=auth(service_token))
    assert again.status_code == 200 and again.json["active"] == bundled_model.version
    assert again.json["previous"] == bundled_model.version
    assert models.get() is serving  # the model it serves, not loaded a second time


# -- metrics, CORS, internal errors ---------------------------------------------

def test_metrics_in_prometheus_text_format(client):
    client.post("/v1/score", json={"headlines": ["a", "b", "c"]})
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    for name in ("headline_sieve_http_requests_total", "headline_sieve_headlines_scored_total",
                 "headline_sieve_http_request_duration_seconds_bucket",
                 "headline_sieve_labels_received_total", "headline_sieve_labels_stored",
                 "headline_sieve_active_model_info", "headline_sieve_retrain_jobs_total"):
        assert name in text, name
    assert 'endpoint="/v1/score",method="POST",status="200"' in text


def test_cors_only_for_configured_origins(service_home, service_helpers):
    app = create_app(service_helpers.settings(service_home,
                                              cors_origins="https://portal.example"))
    client = app.test_client()
    allowed = client.post("/v1/score", json={"headline": "a"},
                          headers={"Origin": "https://portal.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://portal.example"
    other = client.post("/v1/score", json={"headline": "a"},
                        headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = client.options("/v1/score", headers={
        "Origin": "https://portal.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


def test_an_internal_error_is_json_without_a_traceback(service_home, service_helpers):
    app = create_app(service_helpers.settings(service_home))
    (service_home / "models" / "registry.json").write_text("{ not json", encoding="utf-8")
    error = error_of(app.test_client().get("/v1/models"), 500, "internal_error")
    assert "JSONDecodeError" not in error["message"]
