"""Hypothesis, tolerant of CPython's bug gh-106905, for the tests and for the schemathesis runs they start.

Run as a program (``python -m tests.cpython_106905 run …``) it is schemathesis' command line with the guard in
place: schemathesis fuzzes with several threads in its own process, where the tests' conftest never runs."""

from __future__ import annotations

import inspect
import sys
from typing import Any


def tolerate_cpython_106905() -> None:
    """Hypothesis describes a strategy's lambdas by parsing their source with ``ast.parse``; on CPython 3.11,
    with other threads parsing too (the zoo fuzzes a live service; schemathesis runs two workers), that parse
    now and then raises ``SystemError: AST constructor recursion depth mismatch`` — CPython's bug gh-106905, not
    ours, and it failed fuzzing runs that had found nothing. Hypothesis already falls back to
    "lambda: <unknown>" when a parse fails with a SyntaxError; here it does the same for that SystemError. The
    description only names a lambda in reports: what is drawn and what is checked are unchanged."""
    from hypothesis.internal import lambda_sources

    describe = lambda_sources._lambda_description
    if getattr(describe, "tolerates_106905", False):
        return

    def tolerant(f: Any, *args: Any, **kwargs: Any) -> str:
        try:
            return describe(f, *args, **kwargs)
        except SystemError:
            parameters = str(inspect.signature(f))[1:-1]
            return f"lambda {parameters}: <unknown>" if parameters else "lambda: <unknown>"

    tolerant.tolerates_106905 = True  # type: ignore[attr-defined]
    lambda_sources._lambda_description = tolerant


if __name__ == "__main__":
    tolerate_cpython_106905()
    from schemathesis.cli import schemathesis

    sys.argv[0] = "schemathesis"
    sys.exit(schemathesis())
