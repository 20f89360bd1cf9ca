"""Docs that run: every `mlcycle` command and every Python block in README.md, in order."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlcycle.main import app
from tests.conftest import DEMO_TRIALS

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def _commands() -> list[str]:
    lines = [line.split("#")[0].strip() for block in _blocks("bash") for line in block.splitlines()]
    return [line for line in lines if line.startswith("mlcycle ")]


def test_readme_shows_the_two_commands() -> None:
    bash = "\n".join(_blocks("bash"))
    assert "make demo" in bash and "make test" in bash


def test_every_readme_command_and_python_block_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demoed: tuple[Path, str]
) -> None:
    commands = _commands()
    assert len(commands) >= 4
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for command in commands:
        if command.startswith("mlcycle demo"):
            # the session's demo ran this very command (tests/conftest.py), once for every test that needs it
            assert shlex.split(command)[1:] == ["demo", "--trials", DEMO_TRIALS], command
            assert "Act 4 — monitoring" in demoed[1] or "no champion was registered" in demoed[1]
            continue
        if command.startswith("mlcycle serve"):
            _serve_for_real(shlex.split(command))
            continue
        if command.startswith("mlcycle ui"):
            _dashboard_for_real(shlex.split(command))
            continue
        result = runner.invoke(app, shlex.split(command)[1:], catch_exceptions=False)
        assert result.exit_code == 0, f"{command}\n{result.output}\n{result.stderr}"
    for block in _blocks("python"):
        exec(compile(block, str(README), "exec"), {})


def _serve_for_real(args: list[str]) -> None:
    """`serve` runs until stopped: start it as shown (on a free port), check it answers, stop it."""
    from tests.servers import free_port, post, running

    folder = Path(args[args.index("--use-case") + 1])
    with running(folder.resolve()) as (port, _):
        status, body = post(port, "/predict", {"records": [{"date": "2011-09-01", "item": "85123A", "price": 2.55}]})
        assert status == 200 and body["predictions"], body
    assert free_port() > 0


def _dashboard_for_real(args: list[str]) -> None:
    """`ui` runs until stopped too: start it as shown (on a free port), load its overview, stop it."""
    import sys
    import urllib.request

    from tests.servers import free_port, process_serving

    port = free_port()
    command = [str(Path(sys.executable).parent / "mlcycle"), *args[1:], "--port", str(port)]
    with process_serving(command, port):
        folder = Path(args[args.index("--use-case") + 1]).resolve()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/uc/{folder.name}/", timeout=30) as answer:
            assert answer.status == 200 and "Is it still worth it?" in answer.read().decode()
