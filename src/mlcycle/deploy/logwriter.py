"""A batch's prediction log written by a process of its own, so the scoring process keeps its GIL.

Why: the database driver binds every value of every row while holding the GIL, and the thread scoring the
next chunk wants it too. On two cores, a thread overlapped a 100,000-row log with the next chunk's scoring
by a quarter only (1.95 s of scoring and 1.58 s of logging took 2.62 s together); a process holds no GIL of
ours, so the two take about as long as the longer one.

The process is ``python -m mlcycle.deploy.logwriter`` — a plain subprocess rather than ``multiprocessing``,
whose ``spawn`` re-runs the caller's main script and fails in any script without an ``if __name__ ==
"__main__"`` guard. It opens the same store (already migrated by the parent) and reads, from its standard
input, pickled tables as :meth:`~mlcycle.store.PredictionLog.log_table` takes them; for each it answers on
its standard output ``None`` once the rows are committed, or the error the store raised. End of input ends it.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

import pandas as pd

from mlcycle.exceptions import StoreError


class LogProcess:
    """The parent's end: :meth:`log_table` blocks until the process has committed the rows (or raises what the
    store raised there). One call at a time — the batch calls it from its one log thread."""

    def __init__(self, state_dir: Path, url: str) -> None:
        here = str(Path(__file__).resolve().parents[2])  # the folder holding mlcycle: importable however found
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))}
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "mlcycle.deploy.logwriter", str(state_dir), url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        self._lock = threading.Lock()

    def log_table(self, table: pd.DataFrame) -> None:
        with self._lock:
            assert self._process.stdin is not None and self._process.stdout is not None
            try:
                pickle.dump(table, self._process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                self._process.stdin.flush()
                answer = pickle.load(self._process.stdout)
            except (BrokenPipeError, EOFError, pickle.UnpicklingError):
                raise StoreError(f"the batch's log process ended: {self._said()}") from None
        if answer is not None:
            raise answer

    def close(self) -> None:
        """End of input: the process ends once its last table is committed."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            try:
                self._process.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.close()

    def _said(self) -> str:
        """What the process wrote on its way out (its last lines), or its exit code. One that still runs after
        its answers broke off (something else written on its output) is stopped: its answers cannot be read."""
        try:
            code = self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            code = self._process.wait()
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return " / ".join(lines[-3:]) or f"exit code {code}"


def _answer(error: BaseException | None, out: IO[bytes]) -> None:
    """The store's error as it was raised if it pickles, else as a StoreError with its words."""
    try:
        data = pickle.dumps(error, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)
    except Exception:
        data = pickle.dumps(StoreError(f"the prediction log could not take the rows: {error}"))
    out.write(data)
    out.flush()


def main(state_dir: str, url: str) -> None:
    from mlcycle.store import open_store

    store = open_store(Path(state_dir), url, migrate=False)
    source, out = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            table: Any = pickle.load(source)
        except EOFError:
            break
        try:
            store.predictions.log_table(table)
        except Exception as error:  # whatever the driver raised: the parent decides what it means
            _answer(error, out)
        else:
            _answer(None, out)
    store.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
