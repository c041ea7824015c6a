"""Hostile input to the JSON endpoints: whatever arrives, the answer is a JSON
error or a valid result, never a 500, never a hang.

Property-based (Hypothesis, derandomized so CI is reproducible) through the
real Flask app with its test client: arbitrary JSON values, deep nesting, huge
numbers, wrong types, very long strings, NUL and control characters, lone
surrogates, right-to-left marks and zero-width characters, in bodies shaped
like each endpoint's and in query strings and paths. Then a smaller number of
raw-socket requests to the real server (gunicorn) with invalid UTF-8 bytes in
the body, the path and the headers.
"""

from __future__ import annotations

import json
import os
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import auth
from service.app import create_app
from service.state import EXTENSION

EXAMPLES = 120  # per property; fixed so CI runs the same inputs every time
RAW_EXAMPLES = 40
HYPOTHESIS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                             HealthCheck.function_scoped_fixture])
TRICKY = ["\u0000", "\u0001", "\u001f", "\u007f", "\u200b", "\u200c", "\u200d", "\u2060",
          "\ufeff", "\u200e", "\u200f", "\u202e", "\u2066", "\u2069", "\ud800", "\udfff",
          "\ud83d", "\ufffd", "\uffff", "\U0010ffff", "\u3000", "\n", "\t", "\\", '"', "震惊",
          "國務院", "😍", "<script>", "&amp;", "%00", "'--"]
# Text of any code point, lone surrogates included, biased towards the characters above.
TEXT = st.lists(st.one_of(st.sampled_from(TRICKY), st.characters()), max_size=40).map("".join)
LONG_TEXT = st.builds(lambda piece, n: piece * n, st.sampled_from(TRICKY + ["长", "a"]),
                      st.integers(0, 3000))
NUMBERS = st.one_of(st.integers(), st.integers(-2 ** 70, 2 ** 70),
                    st.floats(allow_nan=True, allow_infinity=True))
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT, LONG_TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(TEXT, inner, max_size=5)), max_leaves=20)
LABEL = st.one_of(st.sampled_from(["clickbait", "substantive"]), VALUES)
HEADLINE = st.one_of(TEXT, LONG_TEXT, VALUES)

SCORE_BODIES = st.one_of(
    VALUES,
    st.fixed_dictionaries({"headline": HEADLINE}, optional={"explain": VALUES,
                                                              "threshold": VALUES}),
    st.fixed_dictionaries({"headlines": st.one_of(st.lists(HEADLINE, max_size=8), VALUES)},
                          optional={"explain": st.booleans(), "threshold": NUMBERS}))
LABEL_BODIES = st.one_of(VALUES, st.fixed_dictionaries({"labels": st.one_of(VALUES, st.lists(
    st.one_of(VALUES, st.fixed_dictionaries({"headline": HEADLINE, "label": LABEL},
                                            optional={"source": VALUES})), max_size=6))}))
RETRAIN_BODIES = st.one_of(VALUES, st.fixed_dictionaries({"mode": st.one_of(
    st.sampled_from(["auto", "labels", "corpora"]), VALUES)}))
FILTER_BODIES = st.one_of(VALUES, st.fixed_dictionaries(
    {"html": st.one_of(TEXT, LONG_TEXT, VALUES,
                       st.builds(lambda t: f"<ul><li><a href='/x'>{t}</a></li>"
                                           f"<li><a href='/y'>{t}{t}</a></li></ul>", TEXT))},
    optional={"threshold": VALUES, "url": VALUES}))


def encode(value, ascii_only: bool) -> bytes:
    """JSON text of ``value``; lone surrogates become invalid UTF-8 (CESU) bytes."""
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def raw_bodies() -> st.SearchStrategy[bytes]:
    """Bodies that are not JSON built from values: nesting, huge numbers, bytes."""
    depth = st.integers(1, 200_000)
    return st.one_of(
        st.binary(max_size=200),
        depth.map(lambda n: b"[" * n + b"]" * n),
        depth.map(lambda n: b'{"headline":' + b"[" * n + b"]" * n + b"}"),
        depth.map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
        st.integers(1, 20_000).map(lambda n: b'{"headline": "x", "threshold": ' + b"9" * n
                                   + b"}"),
        st.integers(1, 20_000).map(lambda n: b'{"headlines": [' + b"1" * n + b"]}"),
        st.sampled_from([b'{"headline": 1e999}', b'{"headline": "x", "threshold": -1e999}',
                         b'{"headline": "x", "threshold": NaN}', b'{"headline": Infinity}',
                         b'{"headline": "\\ud800"}', b'{"headline": "\\udc00\\ud800"}',
                         b'{"headline": "\xed\xa0\x80"}', b'{"headline": "\xc0\xaf"}',
                         b'{"headline": "\xf4\x90\x80\x80"}', b'{"headline": "\x00"}',
                         b'\xef\xbb\xbf{"headline": "x"}', b'{"headline": "x"}\x00',
                         b'{"headline": "x", "headline": 5}', b"\xff\xfe{\x00}\x00"]))


@pytest.fixture(scope="module")
def app(tmp_path_factory, service_helpers):
    """The real app in a temporary home; a job is marked running (by this live process),
    so a valid POST /v1/retrain gets 409 instead of starting a training process."""
    application = create_app(service_helpers.settings(tmp_path_factory.mktemp("home")))
    state = application.extensions[EXTENSION]
    job = state.jobs.create("labels", "fuzz")
    state.jobs.start(job, os.getpid())
    application.config["TOKEN"] = state.tokens.create("fuzzer")
    yield application
    state.jobs.fail(job, "test over")


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def tally():
    """Inputs tried per endpoint, and the slowest answer, for the figures."""
    return {"inputs": {}, "slowest_seconds": 0.0, "statuses": {}}


def check(response, tally: dict, endpoint: str, started: float) -> None:
    """The contract: no 500; errors are the JSON error shape; results are JSON."""
    elapsed = time.monotonic() - started
    tally["inputs"][endpoint] = tally["inputs"].get(endpoint, 0) + 1
    tally["slowest_seconds"] = max(tally["slowest_seconds"], round(elapsed, 3))
    tally["statuses"][str(response.status_code)] = tally["statuses"].get(
        str(response.status_code), 0) + 1
    status = response.status_code
    assert status < 500, response.get_data(as_text=True)[:500]
    if endpoint == "/v1/labels/export" and status == 200:
        for line in response.get_data(as_text=True).splitlines():
            json.loads(line)
        return
    assert response.is_json, (status, response.get_data()[:200])
    body = response.get_json()
    if status >= 400:
        assert set(body) == {"error"} and isinstance(body["error"]["code"], str)
        assert isinstance(body["error"]["message"], str)
        assert "Traceback" not in body["error"]["message"]
    else:
        assert isinstance(body, dict)


def post(client, tally, path: str, data: bytes, token: str | None = None,
         content_type: str = "application/json"):
    started = time.monotonic()
    headers = auth(token) if token else {}
    response = client.post(path, data=data, content_type=content_type, headers=headers)
    check(response, tally, path if "/models/" not in path else "/v1/models/<v>/activate",
          started)
    return response


@HYPOTHESIS
@given(body=SCORE_BODIES, ascii_only=st.booleans())
def test_score_answers_json_for_any_body(client, tally, body, ascii_only):
    response = post(client, tally, "/v1/score", encode(body, ascii_only))
    if response.status_code == 200:
        results = response.get_json()["results"]
        assert all(0.0 <= r["p_clickbait"] <= 1.0 for r in results)
        assert all(r["label"] in ("clickbait", "substantive") for r in results)


@HYPOTHESIS
@given(body=LABEL_BODIES, ascii_only=st.booleans())
def test_labels_answer_json_for_any_body(client, app, tally, body, ascii_only):
    store = app.extensions[EXTENSION].labels
    before = store.counts()[0]
    response = post(client, tally, "/v1/labels", encode(body, ascii_only), app.config["TOKEN"])
    stored = store.counts()[0] - before
    if response.status_code == 201:
        assert stored == response.get_json()["stored"] == len(body["labels"])
    else:
        assert stored == 0  # a refused batch stores nothing


@HYPOTHESIS
@given(body=RETRAIN_BODIES, ascii_only=st.booleans())
def test_retrain_answers_json_for_any_body(client, app, tally, body, ascii_only):
    response = post(client, tally, "/v1/retrain", encode(body, ascii_only), app.config["TOKEN"])
    assert response.status_code in (400, 409, 422), response.get_json()


@HYPOTHESIS
@given(body=FILTER_BODIES, ascii_only=st.booleans())
def test_filter_answers_json_for_any_json_body(client, tally, body, ascii_only):
    post(client, tally, "/v1/filter", encode(body, ascii_only))


@HYPOTHESIS
@given(data=raw_bodies(), path=st.sampled_from(["/v1/score", "/v1/labels", "/v1/retrain",
                                                "/v1/filter"]))
def test_raw_bodies_that_are_not_json_values(client, app, tally, data, path):
    post(client, tally, path, data, app.config["TOKEN"])


QUERY = st.one_of(TEXT, st.integers().map(str), st.integers(-2 ** 80, 2 ** 80).map(str),
                  st.sampled_from(["", "-0", "1e3", "0x10", " 5", "5 ", "١٢", "NaN", "1_0",
                                   str(2 ** 63), str(-2 ** 63 - 1), "9" * 5000]))


def quoted(text: str) -> str:
    """Percent-encoded UTF-8 of ``text`` (lone surrogates as their invalid UTF-8 bytes)."""
    from urllib.parse import quote

    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@HYPOTHESIS
@given(since=QUERY, limit=QUERY, current=QUERY, job=TEXT, version=TEXT)
def test_query_strings_and_paths(client, app, tally, since, limit, current, job, version):
    token = app.config["TOKEN"]
    for path, query in (("/v1/labels", f"since={quoted(since)}"),
                        ("/v1/labels", f"limit={quoted(limit)}"),
                        ("/v1/labels", f"since={quoted(since)}&limit={quoted(limit)}"),
                        ("/v1/labels/export", f"current={quoted(current)}")):
        started = time.monotonic()
        response = client.get(f"{path}?{query}", headers=auth(token))
        check(response, tally, path, started)
    started = time.monotonic()
    check(client.get(f"/v1/jobs/{quoted(job)}"), tally, "/v1/jobs/<id>", started)
    post(client, tally, f"/v1/models/{quoted(version)}/activate", b"", token)


def test_figures_of_the_properties(tally, figures):
    """Runs after the properties above (file order): every input got a proper answer."""
    assert sum(tally["inputs"].values()) >= 6 * EXAMPLES
    figures(inputs_tried=sum(tally["inputs"].values()), inputs_by_endpoint=tally["inputs"],
            statuses=tally["statuses"], answers_500=tally["statuses"].get("500", 0),
            slowest_answer_seconds=tally["slowest_seconds"])


# -- raw sockets to the real server ----------------------------------------------

def raw_request(port: int, request: bytes, timeout: float = 30,
                close_write: bool = False) -> tuple[int, dict, bytes]:
    """Send ``request`` as is (then close the sending side, with ``close_write``);
    (status, headers, body) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.partition(":") for line in lines[1:])}
    return status, headers, body


def post_bytes(path: bytes, body: bytes, extra: bytes = b"") -> bytes:
    return (b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\n" + extra
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


INVALID_UTF8 = st.one_of(
    st.sampled_from([b"\xff", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf",
                     b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xe4\xb8", b"\x80",
                     b"\xfe\xff"]),
    st.binary(min_size=1, max_size=12).filter(lambda b: not _is_utf8(b)))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_invalid_utf8_over_raw_sockets_to_the_real_server(tmp_path, service_helpers, figures):
    """Invalid UTF-8 in the body, the path and a header, sent byte for byte to gunicorn."""
    home = tmp_path / "home"
    token = service_helpers.create_token(home)
    sent, statuses = 0, {}

    @settings(max_examples=RAW_EXAMPLES, deadline=None, derandomize=True, database=None)
    @given(bad=INVALID_UTF8, where=st.sampled_from(["headline", "label", "path", "auth",
                                                    "body"]))
    def probe(bad: bytes, where: str) -> None:
        nonlocal sent
        if where == "headline":
            request = post_bytes(b"/v1/score", b'{"headline": "\xe6\xa0\x87' + bad + b'"}')
        elif where == "label":
            request = post_bytes(b"/v1/labels", b'{"labels": [{"headline": "' + bad
                                 + b'", "label": "clickbait"}]}',
                                 b"Authorization: Bearer " + token.encode() + b"\r\n")
        elif where == "path":
            request = post_bytes(b"/v1/models/" + bad + b"/activate", b"{}",
                                 b"Authorization: Bearer " + token.encode() + b"\r\n")
        elif where == "auth":
            request = post_bytes(b"/v1/labels", b'{"labels": []}',
                                 b"Authorization: Bearer " + bad + b"\r\n")
        else:
            request = post_bytes(b"/v1/score", bad)
        status, headers, body = raw_request(handle.port, request)
        sent += 1
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        assert status < 500, body[:300]
        if where != "path" or status != 400:  # gunicorn itself refuses some raw paths
            assert headers.get("content-type", "").startswith("application/json"), body[:300]
            assert "error" in json.loads(body)

    with service_helpers.server_process(home, workers=1) as handle:
        probe()
        assert _short_body_answer(handle.port) == (400, "malformed_json")
        ok = raw_request(handle.port, post_bytes(b"/v1/score", '{"headline": "标题"}'.encode()))
        assert ok[0] == 200
    figures(raw_requests_sent=sent, statuses=statuses)


def _short_body_answer(port: int) -> tuple[int, str]:
    """(status, error code) for a body shorter than its Content-Length, the
    client closing its side after it: the view reads what came, not a hang."""
    body = '{"headline": "标题'.encode()
    request = post_bytes(b"/v1/score", body).replace(
        b"Content-Length: " + str(len(body)).encode(), b"Content-Length: 200")
    status, _, payload = raw_request(port, request, close_write=True)
    return status, json.loads(payload)["error"]["code"]
