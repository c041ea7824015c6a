"""/openapi.json describes exactly the routes the app serves, with the configured limits."""

from __future__ import annotations

import re

import pytest

from service.app import create_app

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def app(tmp_path_factory, service_helpers):
    return create_app(service_helpers.settings(tmp_path_factory.mktemp("home"), max_batch=1500,
                                               score_requires_token=True))


def flask_operations(app) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        operations |= {(path, method.lower()) for method in rule.methods - IGNORED_METHODS}
    return operations


def document_operations(doc: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items() for method in item
            if method in ("get", "post", "put", "patch", "delete")}


def test_every_route_is_documented_and_every_documented_route_exists(app):
    doc = app.test_client().get("/openapi.json").json
    assert doc["openapi"].startswith("3.")
    served, documented = flask_operations(app), document_operations(doc)
    assert served - documented == set(), "routes without an @endpoint declaration"
    assert documented - served == set(), "documented routes the app does not serve"


def test_path_parameters_and_references_resolve(app):
    doc = app.test_client().get("/openapi.json").json
    for path, item in doc["paths"].items():
        names = set(re.findall(r"{([a-z_]+)}", path))
        for operation in item.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, path
            assert operation["responses"], path
    text = app.test_client().get("/openapi.json").get_data(as_text=True)
    for kind, name in re.findall(r'"#/components/(schemas|responses)/([A-Za-z]+)"', text):
        assert name in doc["components"][kind], name


def test_limits_and_security_follow_the_settings(app):
    doc = app.test_client().get("/openapi.json").json
    schemas = doc["components"]["schemas"]
    assert schemas["ScoreRequest"]["properties"]["headlines"]["maxItems"] == 1500
    assert schemas["Headline"]["maxLength"] == 512
    assert doc["paths"]["/v1/score"]["post"]["security"] == [{"bearerAuth": []}]
    for path, method in (("/v1/labels", "post"), ("/v1/retrain", "post"),
                         ("/v1/models/{version}/activate", "post")):
        assert doc["paths"][path][method]["security"] == [{"bearerAuth": []}]
