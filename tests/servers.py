"""Real server processes for tests: start one on a free port, wait until it answers, stop it afterwards."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
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
    with started(command, env) as process:
        wait_until_healthy(process, port, health)
        yield process


@contextlib.contextmanager
def started(command: list[str], env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, terminated (then killed) on the way out.

    Popen's own ``with`` closes the stderr pipe when the server is gone: left to the garbage collector, it
    warned "unclosed file" at whatever moment it was collected — once in the middle of another test's
    command, whose check for library warnings then failed."""
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def wait_until_healthy(process: subprocess.Popen[bytes], port: int, health: str = "/health") -> None:
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{health}", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            if process.poll() is not None or time.time() > deadline:
                shown = process.stderr.read().decode()[-3000:] if process.stderr else ""
                raise AssertionError(f"the server did not start: {shown}") from None
            time.sleep(0.3)


def serve_command(folder: Path, port: int, workers: int = 1) -> list[str]:
    mlcycle = str(Path(sys.executable).parent / "mlcycle")
    return [mlcycle, "serve", "-u", str(folder), "--port", str(port), "--workers", str(workers)]


@contextlib.contextmanager
def running(
    folder: Path, workers: int = 1, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`mlcycle serve` on a free port (or ``port``), with ``env`` added to this process's environment."""
    port = port or free_port()
    command = serve_command(folder, port, workers)
    with process_serving(command, port, env={**os.environ, **env} if env else None) as process:
        yield port, process


@contextlib.contextmanager
def replicas(folder: Path, count: int, env: dict[str, str]) -> Iterator[list[int]]:
    """``count`` `mlcycle serve` processes of one use case started at the same moment, as hosts behind a load
    balancer would be, each on its own port; yields the ports once every one answers ``/health``."""
    ports = [free_port() for _ in range(count)]
    with contextlib.ExitStack() as stack:
        processes = [stack.enter_context(started(serve_command(folder, p), {**os.environ, **env})) for p in ports]
        for process, port in zip(processes, ports):
            wait_until_healthy(process, port)
        yield ports


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


def children(pid: int) -> set[int]:
    """The process ids of ``pid``'s children (Linux /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(p) for p in (task / "children").read_text().split()}
        except OSError:
            continue
    return found


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class PrivatePostgres:
    """A PostgreSQL server of the test's own (``initdb`` + ``pg_ctl`` on a temporary folder and port), so a test
    may stop it and start it again — never the machine's shared server."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.url = f"postgresql+psycopg://mlcycle@127.0.0.1:{port}/postgres"
        self._bin = Path(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")[-1]).parent

    def _run(self, *command: str) -> None:
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(
            str(self._bin / "initdb"), "-D", str(self.folder / "data"), "-A", "trust", "-U", "mlcycle", "--no-sync"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        data = str(self.folder / "data")
        self._run(str(self._bin / "pg_ctl"), "-D", data, "-o", options, "-l", str(self.folder / "log"), "-w", "start")

    def stop(self) -> None:
        self._run(str(self._bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    if not glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"):
        import pytest

        pytest.skip("PostgreSQL's server programs are not installed")
    folder = Path(tempfile.mkdtemp(prefix="mlcycle-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = PrivatePostgres(folder, free_port())
    server.init()
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


SCHEMATHESIS_CONFIG = Path(__file__).parent / "deploy" / "schemathesis.toml"


def schemathesis(
    port: int, secret: str | None, examples: int, seed: int, phases: str = "examples,coverage,fuzzing,stateful"
) -> subprocess.CompletedProcess[str]:
    """schemathesis over a running service's own OpenAPI description: every operation, every check, a fixed seed,
    with the settings of ``tests/deploy/schemathesis.toml`` (and the key, when the service has keys). A request
    may take a minute: on two busy cores an explanation of a large generated batch takes seconds."""
    # fmt: off
    command = [
        sys.executable, "-m", "tests.cpython_106905", "--config-file", str(SCHEMATHESIS_CONFIG), "--no-color",
        "run", f"http://127.0.0.1:{port}/openapi.json", "--checks", "all", "--max-examples", str(examples),
        "--seed", str(seed), "--warnings", "off", "--workers", "2", "--phases", phases, "--request-timeout", "60",
    ]
    # fmt: on
    if secret is not None:
        command += ["--header", f"Authorization: Bearer {secret}"]
    root = Path(__file__).resolve().parent.parent  # where `tests` is a package for `python -m`
    return subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=root)


def generated(stdout: str) -> int:
    """The cases a schemathesis run generated, from its summary ("7266 generated, 7266 passed")."""
    found = re.search(r"(\d+) generated", stdout[stdout.rfind("Test cases:") :])
    return int(found.group(1)) if found else 0


def failures(stdout: str, limit: int = 8000) -> str:
    """What a failed schemathesis run found — each failing operation's section, with its curl — then its summary."""
    first = re.search(r"^_{3,} .+ _{3,}$", stdout, re.M)
    found = stdout[first.start() :] if first else stdout
    return found if len(found) <= limit else found[: limit - 2000] + "\n…\n" + found[-2000:]
