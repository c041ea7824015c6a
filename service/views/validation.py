"""Reading and checking request bodies.

Status codes: a body that is not UTF-8 or not JSON, or a field of the wrong
JSON type, is 400 (the message names the field); a value of the right type
that is unusable (empty or over-long headline, unknown label, threshold out
of range) is 422; too many items is 413.
"""

from __future__ import annotations

import functools
import json
import math
import sys
import unicodedata
from typing import Any

from flask import request

from service.config import parse_bool
from service.views.errors import ApiError

SQLITE_MAX_INTEGER = 2 ** 63 - 1  # larger query integers cannot even be compared in SQLite
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
               int: "a number", float: "a number", type(None): "null"}


def json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def wrong_type(field: str, expected: str, value: Any) -> ApiError:
    return ApiError(400, "invalid_type", f"{field} must be {expected}, not {json_type(value)}",
                    field=field)


def invalid_value(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid_value", f"{field} {message}", field=field)


def request_body() -> bytes:
    """The raw request body, any content type, at most ``MAX_CONTENT_LENGTH`` bytes.

    A Content-Length over the limit was refused (413) before any view ran
    (see :func:`service.app.create_app`); a body without one (chunked) is
    read only up to the limit, and 413 is raised if more follows.
    """
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
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
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_utf8", f"the request body is not valid UTF-8 (byte "
                                            f"{exc.start}); encode the JSON as UTF-8") from None
    try:
        value = json.loads(text.lstrip("\ufeff"))
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


def _is_blank(text: str) -> bool:
    """Only whitespace, control, format or unassigned characters (nothing to read)."""
    return all(unicodedata.category(ch)[0] in "CZ" for ch in text)


@functools.lru_cache(maxsize=1)
def readable_pattern() -> str:
    """The regular expression (one character class, ~700 ranges) of the
    characters :func:`_is_blank` counts as readable: a headline is valid
    where it matches. ``/openapi.json`` publishes it as the headline's
    ``pattern``, so the document and the server apply one rule."""
    ranges, start = [], None
    for code in range(sys.maxunicode + 2):
        readable = code <= sys.maxunicode and unicodedata.category(chr(code))[0] not in "CZ"
        if readable and start is None:
            start = code
        elif not readable and start is not None:
            ranges.append((start, code - 1))
            start = None
    special = set("\\]^-[")

    def char(code: int) -> str:
        return ("\\" if chr(code) in special else "") + chr(code)

    return "[" + "".join(char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in ranges) + "]"


def headline_text(field: str, value: Any, max_chars: int) -> str:
    """A headline: a non-blank string of at most ``max_chars`` characters, valid Unicode."""
    if not isinstance(value, str):
        raise wrong_type(field, "a string", value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid_value(field, "contains an unpaired UTF-16 surrogate (\\ud800-\\udfff "
                                   "escape); send valid Unicode text") from None
    if _is_blank(value):
        raise invalid_value(field, "is empty; send the headline text")
    if len(value) > max_chars:
        raise invalid_value(field, f"is {len(value)} characters long; the limit is {max_chars}")
    return value


def item_list(field: str, value: Any, max_items: int) -> list:
    """A non-empty JSON array of at most ``max_items`` elements (413 above)."""
    if not isinstance(value, list):
        raise wrong_type(field, "an array", value)
    if not value:
        raise invalid_value(field, "is empty; send at least one item")
    if len(value) > max_items:
        raise ApiError(413, "batch_too_large", f"{field} has {len(value)} items; the limit is "
                       f"{max_items} per request: split it into several requests",
                       field=field, limit=max_items)
    return value


def optional_bool(body: dict, field: str, default: bool = False) -> bool:
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise wrong_type(field, "true or false", value)
    return value


def optional_probability(body: dict, field: str) -> float | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise wrong_type(field, "a number", value)
    # Integers are compared as integers: float() of a huge one overflows.
    if (isinstance(value, float) and not math.isfinite(value)) or not 0 <= value <= 1:
        raise invalid_value(field, f"must be between 0 and 1, not {_shown(value)}")
    return float(value)


def _shown(value: Any, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def optional_string(body: dict, field: str, max_chars: int) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise wrong_type(field, "a string", value)
    if len(value) > max_chars:
        raise invalid_value(field, f"is longer than {max_chars} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid_value(field, "is not valid Unicode") from None
    return value


def _query_value(name: str, convert, kind: str):
    """Query parameter ``name`` converted with ``convert``; None when absent
    (present but empty is not a value: 400, as the OpenAPI document says)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return convert(raw)
    except ValueError:
        raise ApiError(400, "invalid_type", f"query parameter {name} must be {kind}, "
                                            f"not {_shown(repr(raw))}", field=name) from None


def query_bool(name: str, default: bool = False) -> bool:
    """Optional true/false query parameter (:func:`service.config.parse_bool` words)."""
    value = _query_value(name, parse_bool, "true or false")
    return default if value is None else value


def query_int(name: str, default: int, minimum: int,
              maximum: int = SQLITE_MAX_INTEGER) -> int:
    value = _query_value(name, int, "an integer")
    if value is None:
        return default
    if not minimum <= value <= maximum:
        raise invalid_value(name, f"must be between {minimum} and {maximum}, "
                                  f"not {_shown(value)}")
    return value


def query_probability(name: str) -> float | None:
    """Optional query parameter in [0, 1] (a threshold); None when absent."""
    value = _query_value(name, float, "a number")
    if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise invalid_value(name, f"must be between 0 and 1, not {_shown(value)}")
    return value
