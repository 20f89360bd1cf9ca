"""The dashboard under test: the demo's use case after the whole loop, and a use case with nothing run yet."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mlcycle.examples import write as write_example
from mlcycle.ui import create_app


@pytest.fixture(scope="session")
def fresh_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example as `mlcycle init` writes it: a design and data, nothing designed, searched or served."""
    folder = tmp_path_factory.mktemp("fresh") / "fresh-sales"
    write_example("sales", folder)
    return folder


@pytest.fixture(scope="session")
def demo_app(demoed: tuple[Path, str]) -> FastAPI:
    return create_app(demoed[0])


@pytest.fixture(scope="session")
def fresh_app(fresh_dir: Path) -> FastAPI:
    return create_app(fresh_dir)


@pytest.fixture
def demo_client(demo_app: FastAPI) -> TestClient:
    return TestClient(demo_app)


class LiveServer:
    """A dashboard under uvicorn on a free port, in a thread of the test process."""

    def __init__(self, app: FastAPI) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the dashboard did not start within 30 s")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def demo_server(demo_app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(demo_app) as server:
        yield server


@pytest.fixture(scope="session")
def fresh_server(fresh_app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(fresh_app) as server:
        yield server
