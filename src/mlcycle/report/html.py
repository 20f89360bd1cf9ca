"""Render reports from the Jinja2 templates in ``report/templates``."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import jinja2


def _number(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "never"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _money(value: Any, currency: str = "") -> str:
    text = _number(value, 0)
    return f"{text} {currency}".strip() if text not in ("—", "never") else text


def _percent(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "—"
    return f"{value:.{digits}%}"


def environment(*, html: bool, templates: str = "report/templates") -> jinja2.Environment:
    """Jinja2 over mlcycle's ``templates`` folder with the number, money and percent filters (the dashboard
    uses its own folder, ``ui/templates``, with the same filters)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mlcycle", templates),
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(number=_number, money=_money, percent=_percent)
    return env


def render(template: str, path: Path, **context: Any) -> Path:
    """Render ``template`` to ``path`` atomically (a reader never sees half a report).

    The temporary file is this writer's own: two runs writing the same report at once (two
    ``mlcycle monitor``) each replace the report whole, and neither loses its file to the other.
    """
    env = environment(html=template.endswith(".html.j2"))
    text = env.get_template(template).render(**context)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as tmp:
            tmp.write(text)
        os.chmod(name, 0o644)  # mkstemp's 0600 would hide the report from the web server's user
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return path
