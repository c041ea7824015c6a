"""Reading request bodies and checking them against their declaration.

The declarations are the pydantic classes of :mod:`service.schemas`; this
module turns the first error pydantic finds into the service's error answer.
Status codes: a body that is not UTF-8 or not JSON, or a field of the wrong
JSON type, is 400 (the message names the field); a value of the right type
that is unusable (empty or over-long headline, unknown label, threshold out
of range) is 422; too many items is 413.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from service import json_io
from service.schemas import shown_value
from service.views.errors import ApiError

Model = TypeVar("Model", bound=BaseModel)
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
               int: "a number", float: "a number", type(None): "null"}


def json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def invalid_value(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid_value", f"{field} {message}", field=field)


def request_body() -> bytes:
    """The raw request body, any content type, at most ``MAX_CONTENT_LENGTH`` bytes.

    A Content-Length over the limit was refused (413) before any view ran
    (see :func:`service.app.create_app`), so a body with one is read in one
    call of ``wsgi.input`` (Werkzeug's read loop costs ~9 us of a 120 us
    request; a body shorter than declared is read as it came). A body
    without one (chunked) is read only up to the limit, and 413 is raised if
    more follows.
    """
    length = request.content_length
    if length is not None:
        return request.environ["wsgi.input"].read(length)
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if limit is not None and len(data) >= limit:
        request.stream.read(1)  # past the limit: Werkzeug raises 413 Request Entity Too Large
    return data


def json_body(required: bool = True) -> dict:
    """The request body (:func:`request_body`) as a JSON object (``{}`` if optional and empty)."""
    data = request_body()
    if not data.strip():
        if required:
            raise ApiError(400, "malformed_json", "the request body is empty; send a JSON object")
        return {}
    try:
        value = json_io.parse(data)
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_utf8", f"the request body is not valid UTF-8 (byte "
                                            f"{exc.start}); encode the JSON as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", f"the request body is not valid JSON: {exc.msg} "
                                              f"(line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise ApiError(400, "malformed_json", "the request body is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ApiError(400, "malformed_json", f"the request body is not usable JSON: {exc}"
                       ) from None
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_type",
                       f"the request body must be a JSON object, not {json_type(value)}",
                       field="body")
    return value



# Error types (pydantic's and service.schemas') that mean "wrong JSON type": 400.
_EXPECTED = {"string_type": "a string", "bool_type": "true or false", "float_type": "a number",
             "int_type": "an integer", "int_parsing": "an integer", "list_type": "an array",
             "dict_type": "an object", "model_type": "an object",
             "model_attributes_type": "an object"}
_BOUNDS = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
           "greater_than": ("more than", "gt"), "less_than": ("less than", "lt")}


def validated(model: type[Model], data: Any, where: str = "body") -> Model:
    """``data`` checked against ``model`` (``where``: "body" or "query"), or the
    :class:`ApiError` of its first error."""
    from service.state import get_state

    try:
        return model.model_validate(data, context={"settings": get_state().settings})
    except ValidationError as exc:
        raise api_error(exc.errors(include_url=False)[0], where) from None


def api_error(error: dict, where: str = "body") -> ApiError:
    """The answer for one pydantic error (``ValidationError.errors()`` item)."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if "field" in ctx:  # a rule over the whole object names its field and says everything
        status = 400 if kind == "invalid_type" else 422
        return ApiError(status, "invalid_type" if status == 400 else "invalid_value",
                        error["msg"], field=ctx["field"])
    field = _dotted(error["loc"])
    name = f"query parameter {field}" if where == "query" else field
    shown = shown_value(repr(value)) if where == "query" else json_type(value)
    if kind == "batch_too_large":
        return ApiError(413, kind, f"{field} {error['msg']}", field=field, limit=ctx["limit"])
    if kind == "missing":
        return ApiError(400, "invalid_type", f"{name} is required", field=field)
    if kind == "invalid_type":
        return ApiError(400, kind, f"{name} {error['msg']}, not {shown}", field=field)
    if kind in _EXPECTED:
        return ApiError(400, "invalid_type", f"{name} must be {_EXPECTED[kind]}, not {shown}",
                        field=field)
    return invalid_value(field, _value_message(kind, ctx, error["msg"], value))


def _value_message(kind: str, ctx: dict, message: str, value: Any) -> str:
    if kind == "invalid_value":
        return message
    if kind == "too_short":
        return "is empty; send at least one item"
    if kind == "string_too_long":
        return f"is longer than {ctx['max_length']} characters"
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}, not {shown_value(repr(value))}"
    if kind in _BOUNDS:
        words, key = _BOUNDS[kind]
        return f"must be {words} {ctx[key]}, not {shown_value(value)}"
    return message[:1].lower() + message[1:]


def _dotted(loc: tuple) -> str:
    """``("labels", 0, "headline")`` -> ``labels[0].headline``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"

