"""Long actions (retrain, rollback, retire, promote) run off the request, one at a time per use case.

Each is on the store's action log before it starts (who, what, with which arguments) and is
closed with its result or its error, so the audit trail holds even an action that crashed.
A page polls the job for its progress: the tail of what the action printed.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from mlcycle.exceptions import MlcycleError
from mlcycle.store import Store

Work = Callable[[Console], dict[str, Any]]


@dataclass
class Job:
    id: int  # the action's id in the store
    action: str
    actor: str
    state: str = "running"  # running | done | failed
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    output: io.StringIO = field(default_factory=io.StringIO)

    def tail(self, lines: int = 12) -> str:
        return "\n".join(self.output.getvalue().splitlines()[-lines:])


class Jobs:
    """The actions of one dashboard process, run by one worker thread in the order they were asked."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlcycle-ui-action")
        self._jobs: dict[tuple[str, int], Job] = {}
        self._lock = threading.Lock()

    def submit(self, slug: str, store: Store, actor: str, action: str, detail: dict[str, Any], work: Work) -> Job:
        job = Job(store.history.start_action(actor, action, detail), action, actor)
        with self._lock:
            self._jobs[(slug, job.id)] = job
        self._pool.submit(self._run, store, job, work)
        return job

    def _run(self, store: Store, job: Job, work: Work) -> None:
        console = Console(file=job.output, width=100, force_terminal=False, color_system=None)
        try:
            job.result = work(console)
            job.state = "done"
        except MlcycleError as error:
            job.error, job.state = str(error), "failed"
        except Exception as error:  # an action's crash is reported on the page and in the audit trail
            job.error, job.state = f"{error.__class__.__name__}: {error}", "failed"
        store.history.end_action(job.id, job.state, job.result if job.error is None else {"error": job.error})

    def get(self, slug: str, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get((slug, job_id))

    def wait(self) -> None:
        """Block until every submitted action has ended (for tests and a clean shutdown)."""
        self._pool.submit(lambda: None).result()
