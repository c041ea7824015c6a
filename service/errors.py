"""JSON errors: every error leaves the service as ``{"error": {"code", "message"}}``.

Views raise :class:`ApiError`; Werkzeug's HTTP errors (404, 405, 413, ...)
and any unexpected exception are turned into the same shape. A traceback
is logged, never sent.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "body_too_large",
          415: "unsupported_media_type", 422: "invalid_value", 500: "internal_error",
          503: "unavailable"}


class ApiError(Exception):
    """An error answer: HTTP ``status``, machine-readable ``code``, human ``message``.

    ``extra`` keys (e.g. ``field``, ``job``) are added to the error object.
    """

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None, **extra):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra


def error_response(status: int, code: str, message: str,
                   headers: dict[str, str] | None = None, **extra) -> Response:
    response = jsonify({"error": {"code": code, "message": message, **extra}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _http_message(exc: HTTPException) -> str:
    if exc.code == 404:
        return f"no endpoint at {request.path}; /openapi.json lists the API"
    if exc.code == 405:
        allowed = ", ".join(sorted(m for m in (exc.valid_methods or []) if m != "OPTIONS"))
        return f"{request.method} is not allowed on {request.path}; use {allowed}"
    if exc.code == 413:
        limit = request.max_content_length
        return (f"the request body is over the limit of {limit} bytes; send fewer or "
                "shorter items per request")
    return exc.description or exc.name


def _handle_api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.headers, **exc.extra)


def _handle_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers = {}
    if status == 405 and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    return error_response(status, _CODES.get(status, exc.name.lower().replace(" ", "_")),
                          _http_message(exc), headers)


def _handle_unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error",
                          "the server failed to handle this request; the error is in its log")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
