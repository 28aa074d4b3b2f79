"""Errors of the HTTP layer and the handlers that turn every error into a JSON body.

Every error a client can cause answers ``{"error": "<kind>", "message": "<what and what to do>"}``
with a 4xx status (``kind`` is the exception's class name); anything else is a 500 with the same
shape, logged here with its traceback and never sent to the client.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kg.errors import USER_ERRORS, GeoKGError

log = logging.getLogger("eekg.api")


class HTTPError(GeoKGError):
    """An error of the HTTP exchange itself; ``extra`` goes into the JSON body, ``headers`` onto the response."""

    status = 400

    def __init__(self, message: str, *, extra: dict | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.extra = extra or {}
        self.headers = headers or {}


class BadRequest(HTTPError):
    """A request that does not follow the protocol (missing or conflicting parameters)."""


class InvalidIRI(HTTPError):
    """A graph IRI that is not an absolute IRI."""


class Unauthorized(HTTPError):
    """No API key where one is needed."""

    status = 401


class Forbidden(HTTPError):
    """An API key that does not allow what was asked."""

    status = 403


class MethodNotAllowed(HTTPError):
    """An operation sent with the wrong HTTP method (an update by GET)."""

    status = 405


class NotAcceptable(HTTPError):
    """No answer format the client accepts; the body lists the ones offered."""

    status = 406


class RequestTooLarge(HTTPError):
    """A request body over the configured limit."""

    status = 413


class URITooLong(HTTPError):
    """A URL query string over the configured limit."""

    status = 414


class UnsupportedMediaType(HTTPError):
    """A request body whose Content-Type we cannot read."""

    status = 415


def error_body(kind: str, message: str, **extra) -> dict:
    """The JSON body of every error answer."""
    return {"error": kind, "message": message, **extra}


async def _user_error(request: Request, error: GeoKGError) -> JSONResponse:
    """Any of ``USER_ERRORS``: each has a ``status`` and a ``message``."""
    kind = type(error).__name__ if type(error) is not GeoKGError else "InvalidRequest"
    extra = getattr(error, "extra", {})
    headers = getattr(error, "headers", None)
    return JSONResponse(error_body(kind, error.message, **extra), status_code=error.status, headers=headers)


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'request'}: {e.get('msg')}"
        for e in error.errors()
    )
    return JSONResponse(
        error_body("InvalidRequest", f"The request is not valid: {problems}. See /docs for the expected parameters."),
        status_code=400,
    )


async def _http_exception(request: Request, error: StarletteHTTPException) -> JSONResponse:
    phrase = HTTPStatus(error.status_code).phrase
    if error.status_code == 404:
        message = f"There is nothing at {request.url.path}. The endpoints are listed at /docs."
    elif error.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}. The allowed methods are listed at /docs."
    else:
        message = str(error.detail) if error.detail and error.detail != phrase else phrase
    return JSONResponse(
        error_body(phrase.replace(" ", ""), message), status_code=error.status_code, headers=error.headers
    )


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("Unexpected error answering %s %s", request.method, request.url.path)
    return JSONResponse(
        error_body(
            "InternalError",
            "The server failed to answer this request; it has been logged. Try again, and report it if it persists.",
        ),
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error with the JSON error body."""
    for root in USER_ERRORS:  # the store's, the mapping stage's and ml/'s: each has status and message
        app.add_exception_handler(root, _user_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(Exception, _unexpected)
