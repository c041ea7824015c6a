"""Bearer-token checks for the endpoints that need one.

A missing, malformed or unknown token gets the same 401 answer, without
saying which it was.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import g, request

from service.views.errors import ApiError


def _presented_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def authenticate() -> str:
    """The name of the request's valid bearer token; 401 otherwise."""
    from service.state import get_state

    name = get_state().tokens.verify(_presented_token())
    if name is None:
        raise ApiError(401, "unauthorized", "a valid bearer token is required "
                       "(Authorization: Bearer <token>; 'headline-sieve token create' makes one)",
                       headers={"WWW-Authenticate": 'Bearer realm="headline-sieve"'})
    g.token_name = name
    return name


def token_needed(view: Callable, settings) -> bool:
    """Whether ``view`` asks for a token under ``settings`` (see :func:`token_required`)."""
    if not getattr(view, "needs_token", False):
        return False
    setting = view.token_setting
    return setting is None or bool(getattr(settings, setting))


def token_required(view: Callable | None = None, *, setting: str | None = None) -> Callable:
    """Decorator: the view needs a valid bearer token (always, or only when the
    boolean setting named ``setting`` is true)."""
    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            from service.state import get_state

            if token_needed(wrapper, get_state().settings):
                authenticate()
            return function(*args, **kwargs)

        wrapper.needs_token, wrapper.token_setting = True, setting  # read by token_needed
        return wrapper

    return decorate(view) if view is not None else decorate
