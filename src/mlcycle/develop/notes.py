"""Library warnings raised while a model fits, in mlcycle's words — or dropped when they mean nothing to the user.

A fit runs scikit-learn, LightGBM and SHAP code that warns about things a data scientist
may need to know ("lbfgs failed to converge") and things nobody can act on ("X does not
have valid feature names", raised because the pipeline hands arrays to a model fitted on
arrays). Printed raw from a worker process, neither reaches the user in a useful form. So
each fit records its warnings (:func:`recording`), and :func:`translate` turns each into one
plain note kept with the trial (MLflow tag ``mlcycle.notes``, the leaderboard) or the
promotion (the gate report) — or drops it. A warning this table does not know is kept with
its library's own text, so nothing that might matter is hidden.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

# (warning class name, pattern in its message) → the note, or None to drop it. {algorithm} is filled in.
TRANSLATIONS: list[tuple[str, str, str | None]] = [
    (
        "ConvergenceWarning",
        r"failed to converge|did not converge|Maximum number of iteration",
        "{algorithm} stopped at its iteration limit before converging: its fit may be poorer than it could be "
        "(stronger regularisation or fewer features usually help)",
    ),
    ("UserWarning", r"does not have valid feature names|was fitted with(out)? feature names", None),
    ("UserWarning", r"No further splits with positive gain", None),
    (
        "UserWarning",
        r"Found unknown categories",
        None,
    ),  # unknown categories are encoded as unknown on purpose
    ("FutureWarning", r".", None),
    ("DeprecationWarning", r".", None),
    ("PendingDeprecationWarning", r".", None),  # matplotlib's colormaps, imported by SHAP: nothing to act on
    (
        "RuntimeWarning",
        r"overflow|divide by zero|invalid value",
        "{algorithm} met numbers it could not compute with (an overflow or a division by zero): look for extreme or "
        "constant values in the features",
    ),
    ("UndefinedMetricWarning", r".", None),  # a fold without positives: the metric is NaN and shown as —
]


def translate(category: str, message: str, algorithm: str) -> str | None:
    """One warning as a note for the user, or None when it means nothing to them."""
    for name, pattern, note in TRANSLATIONS:
        if category == name and re.search(pattern, message):
            return None if note is None else note.format(algorithm=algorithm)
    first = message.strip().splitlines()[0] if message.strip() else ""
    return f"{algorithm}: {category}: {first[:300]}"


@contextmanager
def recording(algorithm: str, into: list[str]) -> Iterator[None]:
    """Record the warnings raised inside, translated, into ``into`` (each note once); nothing is printed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        note = translate(warning.category.__name__, str(warning.message), algorithm)
        if note is not None and note not in into:
            into.append(note)


__all__ = ["TRANSLATIONS", "recording", "translate"]
