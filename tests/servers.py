"""Real server processes for tests: start one on a free port, wait until it answers, stop it afterwards."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def process_serving(
    command: list[str], port: int, health: str = "/health", env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process, wait until ``health`` answers 200, stop it afterwards."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{health}", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (OSError, urllib.error.HTTPError):
                if process.poll() is not None or time.time() > deadline:
                    shown = process.stderr.read().decode()[-3000:] if process.stderr else ""
                    raise AssertionError(f"the server did not start: {shown}") from None
                time.sleep(0.3)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@contextlib.contextmanager
def running(folder: Path, workers: int = 1) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`mlcycle serve` on a free port."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "mlcycle"),
        "serve",
        "-u",
        str(folder),
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with process_serving(command, port) as process:
        yield port, process


def post(port: int, path: str, body: Any) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
