"""Running store calls in the thread pool without letting pyoxigraph objects leave their thread.

pyoxigraph's query answers are "unsendable": created, read and dropped in one thread, or they leak
with an error. An exception raised while reading one carries a traceback whose frames still hold
the answer, so the exception is stripped of its traceback in the worker thread before it crosses
over to the event loop (unexpected errors are logged with their traceback first).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

from kg.errors import USER_ERRORS, without_frames

log = logging.getLogger("eekg.api")
P = ParamSpec("P")
T = TypeVar("T")


async def in_one_thread(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` in a worker thread; its exceptions come back without frames."""
    outcome, error = await run_in_threadpool(_call, function, *args, **kwargs)
    if error is not None:
        raise error
    return outcome


def _call(function, *args, **kwargs):
    try:
        return function(*args, **kwargs), None
    except Exception as error:
        if not isinstance(error, USER_ERRORS):
            log.exception("Unexpected error in %s", getattr(function, "__qualname__", function))
        return None, without_frames(error)
