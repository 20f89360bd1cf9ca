"""Running the service: uvicorn with one or several workers, migrations first, metrics across workers.

With no API key configured the service binds to 127.0.0.1 only, whatever ``--host`` says,
and says so. Migrations run once here, before any worker starts. With ``--workers N``
prometheus-client's multiprocess mode aggregates ``/metrics`` over the workers.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
import tempfile
from typing import TYPE_CHECKING, Any

from rich.console import Console
from uvicorn.protocols.http.h11_impl import H11Protocol

from mlcycle.deploy.metrics import REPLICA_ENV
from mlcycle.store import open_store

if TYPE_CHECKING:
    from fastapi import FastAPI

    from mlcycle.data.workspace import Workspace

LOCAL = ("127.0.0.1", "localhost", "::1")


def serve(
    ws: Workspace,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    console: Console | None = None,
    factory: str = "mlcycle.deploy.server:app_from_environment",
) -> None:
    """Serve the champion under uvicorn. ``factory`` names the app each worker builds (``module:function``):
    layers above the service wrap it — ``mlcycle serve --ui`` mounts the dashboard at ``/ui``."""
    import uvicorn

    store = open_store(ws.state_dir)  # migrate once, before the workers
    keys = store.keys.any_active()
    store.close()
    say = console.print if console else print
    if not keys and host not in LOCAL:
        say(
            f"[yellow]no API key is configured: binding to 127.0.0.1 instead of {host}[/]. "
            "Create keys with `mlcycle keys create --scope predict` to serve other hosts."
        )
        host = "127.0.0.1"
    elif not keys:
        say("no API key is configured: the service is open, on 127.0.0.1 only.")
    os.environ["MLCYCLE_USE_CASE"] = str(ws.folder)
    os.environ["MLCYCLE_MIGRATED"] = "1"
    os.environ["MLCYCLE_SERVE_PARENT"] = str(os.getpid())
    os.environ.setdefault(REPLICA_ENV, f"{socket.gethostname()}:{port}")
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="mlcycle-metrics-")
    say(f"serving {ws.name} on http://{host}:{port} with {workers} worker(s)")
    uvicorn.run(
        factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        timeout_graceful_shutdown=30,
        access_log=False,
        http=NoDelayH11Protocol,
    )


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with TCP_NODELAY on every connection.

    With several workers uvicorn serves from a socket its parent bound, and the accepted
    connections miss TCP_NODELAY (uvicorn issue 3149): Nagle's algorithm then meets the
    client's delayed ACK and a keep-alive response waits ~40 ms. Measured here with
    2 workers: p50 52 ms before.
    """

    def connection_made(self, transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass  # not a TCP socket (a Unix socket): nothing to do
        super().connection_made(transport)


def app_from_environment() -> FastAPI:
    """The app of the use case named by ``MLCYCLE_USE_CASE`` (what each uvicorn worker imports)."""
    from mlcycle.data.workspace import Workspace
    from mlcycle.deploy.app import create_app

    follow_parent(os.environ.get("MLCYCLE_SERVE_PARENT"))
    ws = Workspace.load(os.environ["MLCYCLE_USE_CASE"])
    return create_app(ws, migrate=os.environ.get("MLCYCLE_MIGRATED") != "1")


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def follow_parent(parent: str | None) -> None:
    """A worker of ``serve --workers N`` ends when its parent does, as uvicorn's workers otherwise do not: killed
    with SIGKILL, the parent cannot stop them, and the orphans keep the port so a new ``mlcycle serve`` fails
    with "address already in use". Linux sends the worker SIGTERM when the parent dies (``PR_SET_PDEATHSIG``),
    and uvicorn then drains its requests and commits its log before it exits. The parent's id is checked after
    asking, in case it died before the worker could."""
    if parent is None or os.getpid() == int(parent) or not sys.platform.startswith("linux"):
        return  # one worker runs in the parent itself: nothing to follow
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return  # no prctl here: orphans are still possible, as before
    if os.getppid() != int(parent):
        os.kill(os.getpid(), signal.SIGTERM)
