"""JSON errors: every error leaves the service as ``{"error": {"code", "message"}}``.

Views raise :class:`ApiError`; a view that needs the model while none can be
loaded answers 503 ``model_unavailable``; Werkzeug's HTTP errors (404, 405, 413, ...)
and any unexpected exception are turned into the same shape. A traceback
is logged, never sent.

Storage failures (the home directory's disk is full, read-only or failing)
are not bugs of the request: a full disk answers 507 ``storage_full``, a
read-only or failing one 503 ``storage_unavailable`` with ``Retry-After``,
each with one clear log line. SQLite often reports a full disk as a mere
"disk I/O error" (e.g. when its shared-memory file cannot grow), so an I/O
error with less than :data:`MIN_FREE_BYTES` free in the home directory
counts as a full disk. Whatever was being written is rolled back
(SQLite transactions, registry files written beside and renamed), so the
request can simply be retried once the operator has made room. A
PostgreSQL database that cannot be reached answers 503
``database_unavailable``, also with ``Retry-After``; its transaction is
rolled back by the server.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from service.active_model import ModelUnavailable
from service.stores.database import DatabaseError
from service.stores.storage import storage_problem

log = logging.getLogger(__name__)

_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "body_too_large",
          415: "unsupported_media_type", 422: "invalid_value", 500: "internal_error",
          503: "unavailable", 507: "storage_full"}
MIN_FREE_BYTES = 1 << 20


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


def _handle_no_model(exc: ModelUnavailable) -> Response:
    """A view that needs the model while none can be loaded: 503, retry soon."""
    return error_response(503, "model_unavailable", f"no model loaded: {exc}",
                          {"Retry-After": "5"})


def _handle_unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error",
                          "the server failed to handle this request; the error is in its log")


def _nearly_full(directory: Path | None) -> bool:
    if directory is None:
        return False
    try:
        return shutil.disk_usage(directory).free < MIN_FREE_BYTES
    except OSError:
        return False


def storage_error(exc: BaseException, home: Path | None = None) -> ApiError | None:
    """The 507/503 answer for a storage failure, None for any other error.

    ``home``: the directory written to, whose free space tells a full disk
    from a failing one when the error does not say which.
    """
    problem = storage_problem(exc)
    if problem == "unwritable" and _nearly_full(home):
        problem = "full"
    if problem == "full":
        return ApiError(507, "storage_full", "the service's disk is full; the request changed "
                        "nothing: retry once the operator has made room")
    if problem == "unavailable":
        return ApiError(503, "database_unavailable", "the service cannot reach its database "
                        "now; the request changed nothing: retry later",
                        headers={"Retry-After": "10"})
    if problem == "unwritable":
        return ApiError(503, "storage_unavailable", "the service cannot write to its home "
                        "directory now (read-only, locked or failing); "
                        "the request changed nothing: retry later", headers={"Retry-After": "30"})
    return None


def _handle_storage(exc: Exception) -> Response:
    from service.state import get_state

    error = storage_error(exc, get_state().settings.home)
    if error is None:
        return _handle_unexpected(exc)
    log.error("%s %s: storage failure, answered %d: %s: %s%s", request.method, request.path,
              error.status, exc.__class__.__name__, exc,
              f" ({exc.sqlite_errorname})" if getattr(exc, "sqlite_errorname", None) else "")
    return _handle_api_error(error)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(ModelUnavailable, _handle_no_model)
    app.register_error_handler(sqlite3.OperationalError, _handle_storage)
    app.register_error_handler(OSError, _handle_storage)
    app.register_error_handler(DatabaseError, _handle_storage)
    try:
        import psycopg
    except ImportError:  # no PostgreSQL driver: no PostgreSQL errors either
        pass
    else:
        app.register_error_handler(psycopg.Error, _handle_storage)
    app.register_error_handler(Exception, _handle_unexpected)
