"""Each view declares its operation once, with :func:`endpoint`; ``/openapi.json``
is generated from those declarations and the pydantic classes they name.

``@endpoint(...)`` validates the JSON body (``body=``) and the query string
(``query=``) with :func:`service.views.validation.validated` and passes them
to the view as ``body`` and ``query``. :func:`build_document` walks the app's
URL rules, so a route without a declaration cannot go unnoticed
(tests/test_service_openapi.py), and a view behind
:func:`service.views.auth.token_required` is documented with the bearer
scheme when its setting asks for a token.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from service import schemas
from service.config import Settings
from service.views.auth import token_needed
from service.views.validation import json_body, validated

REF = "#/components/schemas/{model}"
INFO = {"title": "headline-sieve", "version": "1", "description": (
    "Score Chinese news headlines (clickbait vs substantive), take labels, retrain and roll "
    "back, filter portal sidebars. Every error is {\"error\": {\"code\", \"message\"}}. "
    "Limits (configurable): max_batch headlines or labels per request, max_headline_chars "
    "characters per headline, max_body_bytes per body.")}
# Error answers shared by the operations: status -> (component name, description).
ERRORS = {
    400: ("BadRequest", "Malformed JSON, invalid UTF-8, or a field of the wrong type (named "
                        "in the message and in error.field)."),
    401: ("Unauthorized", "Missing or invalid bearer token."),
    404: ("NotFound", "Unknown path or resource."),
    409: ("Conflict", "The request conflicts with the service's state (see error.code)."),
    413: ("TooLarge", "Body over max_body_bytes (checked before it is read), or more items "
                      "than max_batch."),
    415: ("UnsupportedMediaType", "A body of a media type this operation does not take."),
    422: ("Unprocessable", "A value of the right type that cannot be used: empty or "
                           "over-long headline, unknown label, out-of-range number."),
    503: ("Unavailable", "No model loaded yet, or the home directory cannot be written now "
                         "(storage_unavailable, with Retry-After); nothing was changed."),
    507: ("StorageFull", "The service's disk is full (storage_full); nothing was changed."),
}


@dataclass(frozen=True)
class Endpoint:
    """One operation of the document. ``responses``: status -> a pydantic class
    (JSON), or ``(description, media type)`` / ``(description, {media type:
    class or None})`` for other answers. ``errors``: statuses of :data:`ERRORS`,
    or a dict status -> description. ``content``: the request body's media
    types when the view reads the body itself (the sidebar filter)."""

    summary: str
    operation_id: str
    responses: dict[int, Any]
    description: str | None = None
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    errors: Any = ()
    content: dict[str, Any] | None = None


def endpoint(summary: str, *, operation_id: str, responses: dict[int, Any],
             **options: Any) -> Callable:
    """Decorator: declare the view's operation (see :class:`Endpoint`) and
    validate its body and query string from that declaration."""
    spec = Endpoint(summary, operation_id, responses, **options)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if spec.body is not None:
                kwargs["body"] = validated(spec.body, json_body(required=spec.body_required))
            if spec.query is not None:
                kwargs["query"] = validated(spec.query, request.args.to_dict(), where="query")
            return view(*args, **kwargs)

        wrapper.endpoint_spec = spec
        return wrapper

    return decorate


def build_document(app: Flask, settings: Settings) -> dict:
    """The OpenAPI 3.1 document of ``app``'s routes, with ``settings``' limits."""
    paths: dict[str, dict] = {}
    bodies, answers = set(), set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        spec: Endpoint | None = getattr(view, "endpoint_spec", None)
        if spec is None:
            raise LookupError(f"{rule.endpoint} ({rule.rule}) has no @endpoint declaration")
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                spec, rule.arguments, token_needed(view, settings))
        bodies |= {spec.body, *_models(spec.content)} - {None}
        answers |= {model for answer in spec.responses.values() for model in _models(answer)}
    answers.add(schemas.Error)
    return {"openapi": "3.1.0", "info": INFO, "paths": paths, "components": {
        "schemas": _schemas(sorted(bodies, key=_name), sorted(answers, key=_name), settings),
        "responses": {name: _error_answer(text) for name, text in ERRORS.values()},
        "securitySchemes": {"bearerAuth": {
            "type": "http", "scheme": "bearer",
            "description": "Made with 'headline-sieve token create NAME'."}}}}


def _name(model: type) -> str:
    return model.__name__


def _operation(spec: Endpoint, path_arguments, token: bool) -> dict:
    operation: dict[str, Any] = {"summary": spec.summary, "operationId": spec.operation_id}
    if spec.description:
        operation["description"] = spec.description
    if token:
        operation["security"] = [{"bearerAuth": []}]
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in sorted(path_arguments)]
    if spec.query is not None:
        schema = spec.query.model_json_schema(ref_template=REF)
        parameters += [{"name": name, "in": "query", "required": False, "schema": prop}
                       for name, prop in schema["properties"].items()]
    if parameters:
        operation["parameters"] = parameters
    if spec.body is not None:
        operation["requestBody"] = {"required": spec.body_required, "content": {
            "application/json": {"schema": _ref(spec.body)}}}
    elif spec.content is not None:
        operation["requestBody"] = {"required": True, "content": {
            media: {"schema": _ref(schema) if isinstance(schema, type) else schema}
            for media, schema in spec.content.items()}}
    responses = {str(status): _answer(answer) for status, answer in spec.responses.items()}
    errors = spec.errors if isinstance(spec.errors, dict) else dict.fromkeys(spec.errors)
    if token:
        errors.setdefault(401, None)
    for status, text in sorted(errors.items()):
        responses[str(status)] = ({"$ref": f"#/components/responses/{ERRORS[status][0]}"}
                                  if text is None else _error_answer(text))
    operation["responses"] = responses
    return operation


def _models(answer: Any) -> list[type[BaseModel]]:
    if isinstance(answer, type):
        return [answer]
    if isinstance(answer, tuple):
        answer = answer[1]
    if isinstance(answer, dict):
        return [value for value in answer.values() if isinstance(value, type)]
    return []


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _answer(answer: Any) -> dict:
    if isinstance(answer, type):
        return {"description": answer.__doc__ or "OK", "content": {
            "application/json": {"schema": _ref(answer)}}}
    description, content = answer
    if isinstance(content, str):
        content = {content: None}
    return {"description": description, "content": {
        media: {"schema": _ref(model) if model is not None else {"type": "string"}}
        for media, model in content.items()}}


def _error_answer(description: str) -> dict:
    return {"description": description, "content": {"application/json": {
        "schema": _ref(schemas.Error)}}}


def _schemas(bodies: list[type[BaseModel]], answers: list[type[BaseModel]],
             settings: Settings) -> dict:
    """Component schemas of the request (validation) and response (serialization)
    classes, with every ``{"$setting": name}`` replaced by the setting's value."""
    models = [(model, "validation") for model in bodies]
    models += [(model, "serialization") for model in answers if model not in bodies]
    _, top = models_json_schema(models, ref_template=REF)
    return _fill_settings(top.get("$defs", {}), settings)


def _fill_settings(value: Any, settings: Settings) -> Any:
    if isinstance(value, dict):
        if set(value) == {schemas.SETTING}:
            return getattr(settings, value[schemas.SETTING])
        return {key: _fill_settings(item, settings) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill_settings(item, settings) for item in value]
    return value
