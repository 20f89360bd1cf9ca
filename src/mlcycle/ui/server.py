"""``mlcycle ui``: the dashboard under uvicorn, bound to 127.0.0.1 unless every use case it shows has keys."""

from __future__ import annotations

import os
import threading
import webbrowser
from pathlib import Path

from fastapi import FastAPI
from rich.console import Console

from mlcycle.ui import pages
from mlcycle.ui.app import create_app

LOCAL = ("127.0.0.1", "localhost", "::1")


def serve(
    folder: Path | None,
    root: Path | None,
    *,
    host: str = "127.0.0.1",
    port: int = 8090,
    open_browser: bool = False,
    console: Console,
) -> None:
    import uvicorn

    app = create_app(folder, root=root)
    sites: list[pages.Site] = list(app.state.dashboard.sites.values())
    open_sites = [s.slug for s in sites if s.access.open()]
    if host not in LOCAL and open_sites:
        console.print(
            f"[yellow]{', '.join(open_sites)} has no API key: binding to 127.0.0.1 instead of {host}[/]. "
            "Create keys (`mlcycle keys create --scope view`, and `--scope admin` for actions) to open the dashboard."
        )
        host = "127.0.0.1"
    url = f"http://{host}:{port}/"
    console.print(f"mlcycle dashboard on {url} ({len(sites)} use case{'s' if len(sites) != 1 else ''})")
    if open_browser:
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")


def service_with_dashboard() -> FastAPI:
    """The prediction service with the dashboard mounted at ``/ui`` (what each worker of ``mlcycle serve --ui``
    builds). The dashboard checks the same keys, in the same store, as the service."""
    from mlcycle.deploy.server import app_from_environment

    service = app_from_environment()
    service.mount("/ui", create_app(Path(os.environ["MLCYCLE_USE_CASE"])))
    return service
