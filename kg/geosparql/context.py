"""What custom functions could not do during one query, made visible afterwards.

pyoxigraph swallows exceptions raised inside custom functions (the expression just becomes
unbound), so a malformed literal would vanish silently. Each query therefore gets an
``EvaluationContext``; every function runs through :func:`guarded`, which records problems and
the deadline, and the store raises afterwards (:meth:`EvaluationContext.raise_if_failed`): the
query fails with a message naming the literal, rather than answering without it.
"""

from __future__ import annotations

import time
from typing import Callable

from pyoxigraph import Literal

from kg.errors import GeoKGError, InvalidGeometry, QueryTimeout

MAX_REPORTED = 5
TRUE = Literal(True)


class EvaluationContext:
    """Deadline and problems of one query or update evaluation."""

    def __init__(self, timeout: float | None = None):
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout if timeout else None
        self.problems: list[GeoKGError] = []
        self.timed_out = False

    def expired(self) -> bool:
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.timed_out = True
        return self.timed_out

    def report(self, problem: GeoKGError) -> None:
        if len(self.problems) < MAX_REPORTED and all(p.message != problem.message for p in self.problems):
            self.problems.append(problem)

    def raise_if_failed(self) -> None:
        if self.timed_out:
            raise QueryTimeout(
                f"The query ran longer than the {self.timeout:g} s timeout and was stopped. "
                "Make it more selective (a spatial filter, LIMIT) or ask for a longer timeout."
            )
        if self.problems:
            first = self.problems[0]
            if len(self.problems) == 1:
                raise first
            others = "; ".join(p.message for p in self.problems[1:])
            raise type(first)(f"{first.message} (and also: {others})")


def guarded(function: Callable, name: str, context: EvaluationContext) -> Callable:
    """Wrap a GeoSPARQL function so its failures reach ``context`` instead of vanishing."""

    def call(*args):
        if context.expired():
            # Answering "true" lets rows reach the output, where the deadline writer stops the
            # engine; answering nothing would filter every row out and the engine would run on.
            return TRUE
        try:
            return function(*args)
        except GeoKGError as problem:
            context.report(problem)
        except Exception as bug:  # a bug of ours must not look like a false FILTER either
            context.report(InvalidGeometry(f"{name} failed on {_show(args)}: {type(bug).__name__}: {bug}"))
        return None

    call.__name__ = name
    return call


def _show(args) -> str:
    return ", ".join(repr(str(getattr(a, "value", a)))[:120] for a in args)
