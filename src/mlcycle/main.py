"""The ``mlcycle`` program: the commands of :mod:`mlcycle.cli` and ``mlcycle demo``.

The CLI and the demo are two front ends over the same facade and the same terminal rendering
(:mod:`mlcycle.report.terminal`), and neither imports the other; this module, the top of the
layers, puts them together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlcycle import demo
from mlcycle.cli import app, out, user_errors


@app.command("demo")
@user_errors
def demo_command(
    folder: Annotated[Path, typer.Argument(help="Where to create the example use case.")] = Path("mlcycle-demo"),
    trials: Annotated[
        int | None, typer.Option(help="Trials for the search (default: the design's, ~2 minutes).")
    ] = None,
    open_dashboard: Annotated[
        bool, typer.Option("--open", help="Then start the dashboard on the use case and open it in a browser.")
    ] = False,
) -> None:
    """The whole loop on the bundled retail example. Exits 0 when it ran, whatever it found."""
    demo.run(folder, out, trials=trials)
    if open_dashboard:
        from mlcycle.ui import server

        server.serve(folder, None, open_browser=True, console=out)


def main() -> None:
    app()


__all__ = ["app", "main"]

if __name__ == "__main__":
    main()
