"""Search throughput on the bundled sales example: process scaling and the cost of MLflow tracking.

    .venv/bin/python bench/search.py [--trials 16]

Runs the same search (random sampler with a fixed seed, every fold of every trial, so each
run does the same work) with the local executor at 1 and 2 processes without tracking, and
at 2 processes with MLflow tracking; prints trials per minute and the ratios.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import mlcycle
from mlcycle.develop import search
from mlcycle.examples import write


def timed(uc: mlcycle.UseCase, workers: int, track: bool, trials: int) -> tuple[float, int]:
    started = time.perf_counter()
    result = search.run(
        uc.spec,
        uc.training_data,
        uc.folder,
        uc.state_dir,
        trials=trials,
        executor="local",
        workers=workers,
        track=track,
        prune=False,
    )
    return time.perf_counter() - started, result.count("complete")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write("sales", folder)
        uc = mlcycle.UseCase.load(folder)
        uc.spec.experiments.search.sampler = "random"
        uc.spec.experiments.search.timeout_minutes = 60
        uc.spec.requirements.budget.max_training_minutes = 60
        print(
            f"search bench: sales example, {args.trials} trials, random sampler (seed 0), "
            f"{uc.spec.experiments.validation.folds} folds each, no pruning; {os.cpu_count()} cores"
        )
        rows = []
        for label, workers, track in (
            ("1 process, no tracking", 1, False),
            ("2 processes, no tracking", 2, False),
            ("2 processes, MLflow tracking", 2, True),
        ):
            seconds, complete = timed(uc, workers, track, args.trials)
            rows.append((label, seconds, complete))
            print(f"  {label:32s} {seconds:7.1f} s  {complete} complete  {60 * complete / seconds:6.1f} trials/min")
        one, two, tracked = (r[1] for r in rows)
        print(f"scaling 2 vs 1 process:           {one / two:5.2f}x faster")
        print(f"tracking overhead (with / without): {tracked / two:5.2f}x time")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
